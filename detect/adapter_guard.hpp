// adapter_guard.hpp - the exception boundary of detect/'s C++ adapters.
// Private to detect/.  Every function behind a C header runs its body
// through fs_guarded: no C++ exception crosses into C, out-of-memory
// becomes FS_ENOMEM and anything else `other` (FS_EINTERNAL unless the
// caller knows better, e.g. FS_EDECODE for a decoder).
#ifndef FS_ADAPTER_GUARD_HPP
#define FS_ADAPTER_GUARD_HPP

#include <new>

extern "C" {
#include "../engine/base/fs_error.h"
}

template <typename Body>
static int fs_guarded(Body &&body, int other = FS_EINTERNAL) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return FS_ENOMEM;
    } catch (...) {
        return other;
    }
}

#endif // FS_ADAPTER_GUARD_HPP
