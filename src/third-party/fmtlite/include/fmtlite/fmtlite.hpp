// fmtlite: aligned text tables and hex formatting.
#ifndef FMTLITE_FMTLITE_HPP
#define FMTLITE_FMTLITE_HPP

#include <cstdint>
#include <string>
#include <vector>

namespace fmtlite {

// A table of text cells, rendered with every column padded to its widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void add_row(std::vector<std::string> row);
  std::size_t rows() const { return rows_.size(); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "0x" followed by the lower-case hex digits of `value` (no leading zeros).
std::string hex(std::uint64_t value);

// The items joined by `separator`.
std::string join(const std::vector<std::string>& items, const std::string& separator);

const char* version();

}  // namespace fmtlite

#endif
