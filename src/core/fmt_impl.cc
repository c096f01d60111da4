// fmt's compiled part, built once here instead of in every file that
// formats. Debian ships fmt as a shared library, and linking it would pull
// in the shared libstdc++ that lineage links statically for its start-up
// time; fmt's header-only mode instead compiled the whole implementation
// (floating point, locale, vformat) into each of ~80 files, a third of the
// build. So every file includes <fmt/format.h> without FMT_HEADER_ONLY
// (lineage_fmt in src/CMakeLists.txt) and this file supplies what the
// header declares and leaves to the library: the non-template functions
// of format-inl.h and the templates format.h declares extern.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;

template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> char;
template auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
