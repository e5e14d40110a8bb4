// The kernel description language: parsed kernels and the code generator.
#ifndef KCC_KDL_HPP
#define KCC_KDL_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kcc {

// An expression tree: a number, a variable, or an operator/function over sub-expressions.
struct Expr {
  enum class Kind { Number, Variable, Unary, Binary, Call };
  Kind kind = Kind::Number;
  std::uint64_t value = 0;
  std::string name;  // variable, operator or function name
  std::vector<Expr> args;
};

struct Kernel {
  std::string name;
  std::string kind;  // "map" or "reduce"
  Expr body;
  int line = 0;
};

// A located error in a description file.
class Error : public std::runtime_error {
 public:
  Error(int line, const std::string& message)
      : std::runtime_error(message), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

// Parses a whole description; throws Error on the first problem.
std::vector<Kernel> parse(const std::string& text);

// Wave size of a gfx target (64 for gfx9, 32 for gfx10 and later); throws std::invalid_argument
// for a name that is not a gfx target.
unsigned wave_size(const std::string& target);

// The C source of the code object of `module` for `target`; `ident` is the CRC-32 of the
// target name, `generator` names kcc and its version.
std::string generate(const std::vector<Kernel>& kernels, const std::string& module,
                     const std::string& target, const std::string& source_name,
                     std::uint32_t ident, const std::string& generator);

}  // namespace kcc

#endif
