#pragma once
// CLI11, without the start-up cost of <iostream>.
//
// With libstdc++ before GCC 13, every translation unit that includes
// <iostream> constructs the eight standard streams and the global locale at
// start-up: about 0.1 ms of every run here, before main, for streams
// lineage never writes to (it prints with stdio). CLI11 includes <iostream>
// but uses std::cout/std::cerr only in App::exit (help, version) and for
// deprecated or retired options (lineage has none). So this header declares
// the streams as <iostream> does, without its static initialiser, and
// cli11_exit() constructs them before that one use. Other standard
// libraries get plain <iostream>.
#include <version>

#if defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE < 13 && !defined(_GLIBCXX_IOSTREAM)
#define LINEAGE_LAZY_IOSTREAM 1
#define _GLIBCXX_IOSTREAM 1  // <iostream>'s include guard: its body is below
#include <istream>
#include <ostream>
namespace std _GLIBCXX_VISIBILITY(default) {
_GLIBCXX_BEGIN_NAMESPACE_VERSION
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
_GLIBCXX_END_NAMESPACE_VERSION
}  // namespace std
#endif

#include <CLI/CLI.hpp>

namespace lineage::cli {

/// app.exit(e): prints help, version or the error to the standard streams,
/// constructed first when this header kept them from being built at start-up.
inline int cli11_exit(const CLI::App& app, const CLI::Error& e) {
#ifdef LINEAGE_LAZY_IOSTREAM
  static std::ios_base::Init streams;  // reference-counted: safe at any time
#endif
  return app.exit(e);
}

}  // namespace lineage::cli
