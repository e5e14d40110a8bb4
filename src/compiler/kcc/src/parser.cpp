// A recursive-descent parser for kernel descriptions.
#include <cctype>
#include <set>
#include <sstream>

#include "kdl.hpp"

namespace kcc {
namespace {

const std::set<std::string> kVariables = {"a", "b", "alpha", "i", "n", "lane", "wave"};
const std::set<std::string> kUnaryFunctions = {"mix"};
const std::set<std::string> kBinaryFunctions = {"min", "max"};

struct Token {
  enum class Kind { Number, Name, Symbol, End };
  Kind kind;
  std::string text;
  std::uint64_t value = 0;
};

class Lexer {
 public:
  Lexer(const std::string& text, int line) : text_(text), line_(line) { advance(); }
  const Token& peek() const { return current_; }
  Token take() {
    Token out = current_;
    advance();
    return out;
  }
  int line() const { return line_; }

 private:
  void advance() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ >= text_.size() || text_[pos_] == '#') {
      current_ = {Token::Kind::End, "", 0};
      return;
    }
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      std::uint64_t value = 0;
      std::size_t start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        const std::uint64_t digit = static_cast<std::uint64_t>(text_[pos_] - '0');
        if (value > (UINT64_MAX - digit) / 10) throw Error(line_, "number too large");
        value = value * 10 + digit;
        ++pos_;
      }
      current_ = {Token::Kind::Number, text_.substr(start, pos_ - start), value};
      return;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
        ++pos_;
      current_ = {Token::Kind::Name, text_.substr(start, pos_ - start), 0};
      return;
    }
    if ((c == '<' || c == '>') && pos_ + 1 < text_.size() && text_[pos_ + 1] == c) {
      current_ = {Token::Kind::Symbol, std::string(2, c), 0};
      pos_ += 2;
      return;
    }
    if (std::string("+-*/%&|^~(),").find(c) != std::string::npos) {
      current_ = {Token::Kind::Symbol, std::string(1, c), 0};
      ++pos_;
      return;
    }
    throw Error(line_, std::string("unexpected character '") + c + "'");
  }

  const std::string& text_;
  int line_;
  std::size_t pos_ = 0;
  Token current_{Token::Kind::End, "", 0};
};

// Binary operators by precedence level, loosest first (C's order).
const std::vector<std::vector<std::string>> kLevels = {
    {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}};

class Parser {
 public:
  explicit Parser(Lexer& lexer) : lex_(lexer) {}

  Expr expression(std::size_t level = 0) {
    if (level == kLevels.size()) return unary();
    Expr left = expression(level + 1);
    for (;;) {
      const Token& t = lex_.peek();
      bool matched = false;
      for (const auto& op : kLevels[level]) {
        if (t.kind == Token::Kind::Symbol && t.text == op) matched = true;
      }
      if (!matched) return left;
      Expr node;
      node.kind = Expr::Kind::Binary;
      node.name = lex_.take().text;
      node.args.push_back(std::move(left));
      node.args.push_back(expression(level + 1));
      left = std::move(node);
    }
  }

 private:
  Expr unary() {
    const Token& t = lex_.peek();
    if (t.kind == Token::Kind::Symbol && (t.text == "-" || t.text == "~")) {
      Expr node;
      node.kind = Expr::Kind::Unary;
      node.name = lex_.take().text;
      node.args.push_back(unary());
      return node;
    }
    return primary();
  }

  void expect(const std::string& symbol) {
    const Token t = lex_.take();
    if (t.kind != Token::Kind::Symbol || t.text != symbol)
      throw Error(lex_.line(), "expected '" + symbol + "'" +
                                   (t.kind == Token::Kind::End ? " at end of line"
                                                               : " before '" + t.text + "'"));
  }

  Expr primary() {
    Token t = lex_.take();
    Expr node;
    switch (t.kind) {
      case Token::Kind::Number:
        node.kind = Expr::Kind::Number;
        node.value = t.value;
        return node;
      case Token::Kind::Name:
        if (kUnaryFunctions.count(t.text) || kBinaryFunctions.count(t.text)) {
          node.kind = Expr::Kind::Call;
          node.name = t.text;
          expect("(");
          node.args.push_back(expression());
          if (kBinaryFunctions.count(t.text)) {
            expect(",");
            node.args.push_back(expression());
          }
          expect(")");
          return node;
        }
        if (!kVariables.count(t.text))
          throw Error(lex_.line(), "unknown name '" + t.text +
                                       "' (variables: a, b, alpha, i, n, lane, wave;"
                                       " functions: mix, min, max)");
        node.kind = Expr::Kind::Variable;
        node.name = t.text;
        return node;
      case Token::Kind::Symbol:
        if (t.text == "(") {
          node = expression();
          expect(")");
          return node;
        }
        throw Error(lex_.line(), "unexpected '" + t.text + "'");
      case Token::Kind::End:
        break;
    }
    throw Error(lex_.line(), "expression ends too early");
  }

  Lexer& lex_;
};

bool is_identifier(const std::string& text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

std::vector<Kernel> parse(const std::string& text) {
  std::vector<Kernel> kernels;
  std::set<std::string> names;
  std::istringstream lines(text);
  std::string raw;
  int number = 0;
  while (std::getline(lines, raw)) {
    ++number;
    std::istringstream words(raw);
    std::string keyword;
    if (!(words >> keyword) || keyword[0] == '#') continue;
    if (keyword != "kernel") throw Error(number, "expected 'kernel', found '" + keyword + "'");
    Kernel kernel;
    kernel.line = number;
    if (!(words >> kernel.name) || !is_identifier(kernel.name))
      throw Error(number, "expected a kernel name");
    if (!names.insert(kernel.name).second)
      throw Error(number, "kernel '" + kernel.name + "' defined twice");
    if (!(words >> kernel.kind) || (kernel.kind != "map" && kernel.kind != "reduce"))
      throw Error(number, "kernel '" + kernel.name + "': expected 'map' or 'reduce'");
    std::string rest;
    std::getline(words, rest);
    Lexer lexer(rest, number);
    Parser parser(lexer);
    kernel.body = parser.expression();
    if (lexer.peek().kind != Token::Kind::End)
      throw Error(number, "unexpected '" + lexer.peek().text + "' after the expression");
    kernels.push_back(std::move(kernel));
  }
  if (kernels.empty()) throw Error(number, "no kernel defined");
  return kernels;
}

unsigned wave_size(const std::string& target) {
  // gfxNNN (gfx9: major = first digit) or gfxNNNN (gfx10 and later: major = two digits).
  const std::string arch = target.substr(0, target.find(':'));
  if (arch.size() < 6 || arch.size() > 7 || arch.compare(0, 3, "gfx") != 0)
    throw std::invalid_argument("not a gfx target: '" + target + "'");
  for (std::size_t k = 3; k < arch.size(); ++k) {
    if (!std::isxdigit(static_cast<unsigned char>(arch[k])) ||
        std::isupper(static_cast<unsigned char>(arch[k])))
      throw std::invalid_argument("not a gfx target: '" + target + "'");
  }
  const int major = arch.size() == 6 ? arch[3] - '0' : (arch[3] - '0') * 10 + (arch[4] - '0');
  if (major < 6 || major > 19) throw std::invalid_argument("not a gfx target: '" + target + "'");
  return major <= 9 ? 64u : 32u;
}

}  // namespace kcc
