// What the host-direct wire tests share: whether a device can open a
// libvdeplug link in this build, and a fresh temp directory per test.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>

#include <string>

namespace hcasim::test {

// libvdeplug dlopens its plugins (ptp, vde, ...) with RTLD_DEEPBIND, which
// the ASan runtime refuses: under the sanitizers the device cannot open a
// link, so the wire tests run in the normal build only.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kNoVde = true;
#else
inline constexpr bool kNoVde = false;
#endif

// A new directory /tmp/hcasim-PREFIX-XXXXXX (the caller removes it).
inline std::string wire_temp_dir(const char* prefix) {
    std::string tmpl = std::string("/tmp/hcasim-") + prefix + "-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()));
    return tmpl;
}

}  // namespace hcasim::test
