// kcc: compile a kernel description into the C source of a code object for one gfx target.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "kdl.hpp"
#include "rs/version.h"
#include "sysdeps/sysdeps.h"

namespace {

const char* kUsage =
    "usage: kcc --target GFX [--module NAME] [-o OUT.c] SPEC.kdl\n"
    "       kcc --wave-size GFX\n"
    "       kcc --version\n";

std::string basename_of(const std::string& path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stem_of(const std::string& path) {
  std::string name = basename_of(path);
  const std::size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

int fail(const std::string& message) {
  std::cerr << "kcc: error: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, module, output, spec;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    auto value = [&](const char* option) -> std::string {
      if (k + 1 >= argc) throw std::invalid_argument(std::string(option) + " needs a value");
      return argv[++k];
    };
    try {
      if (arg == "--version") {
        std::cout << "kcc " << RS_VERSION_STRING << " (kernel ABI 1)\n";
        return 0;
      } else if (arg == "--wave-size") {
        std::cout << kcc::wave_size(value("--wave-size")) << "\n";
        return 0;
      } else if (arg == "--target") {
        target = value("--target");
      } else if (arg == "--module") {
        module = value("--module");
      } else if (arg == "-o") {
        output = value("-o");
      } else if (arg == "-h" || arg == "--help") {
        std::cout << kUsage;
        return 0;
      } else if (!arg.empty() && arg[0] == '-') {
        return fail("unknown option '" + arg + "'\n" + kUsage);
      } else if (spec.empty()) {
        spec = arg;
      } else {
        return fail("more than one description file\n" + std::string(kUsage));
      }
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  if (target.empty() || spec.empty()) return fail(std::string("missing --target or SPEC\n") + kUsage);
  if (module.empty()) module = stem_of(spec);

  std::ifstream in(spec, std::ios::binary);
  if (!in) return fail("cannot read " + spec);
  std::ostringstream text;
  text << in.rdbuf();

  std::string code;
  try {
    kcc::wave_size(target);  // reject a bad target before parsing
    const auto kernels = kcc::parse(text.str());
    const std::string generator = std::string("kcc ") + RS_VERSION_STRING;
    code = kcc::generate(kernels, module, target, basename_of(spec),
                         sysdeps_crc32_str(target.c_str()), generator);
  } catch (const kcc::Error& e) {
    return fail(basename_of(spec) + ":" + std::to_string(e.line()) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  if (output.empty()) {
    std::cout << code;
    return 0;
  }
  // Write through a temporary file so that an interrupted run leaves no half-written source.
  const std::string temp = output + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out || !(out << code) || !out.flush()) return fail("cannot write " + temp);
  }
  std::remove(output.c_str());
  if (std::rename(temp.c_str(), output.c_str()) != 0) return fail("cannot write " + output);
  return 0;
}
