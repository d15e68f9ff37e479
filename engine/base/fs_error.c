/*
 * fs_error.c - texts of the FS_E* codes and the detail formatter.
 */
#include "fs_error.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>

const char *fs_strerror(int rc)
{
    switch (rc) {
    case FS_OK:           return "success";
    case FS_ENOMEM:       return "out of memory";
    case FS_EIO:          return "input/output error";
    case FS_ENOENT:       return "no such file";
    case FS_EINVAL:       return "invalid argument";
    case FS_EFORMAT:      return "bad file format";
    case FS_EVERSION:     return "unsupported format version";
    case FS_ETRUNC:       return "file is truncated";
    case FS_ECHECKSUM:    return "checksum mismatch";
    case FS_ESHAPE:       return "wrong shape";
    case FS_EDECODE:      return "cannot decode image";
    case FS_ETHREAD:      return "cannot start thread";
    case FS_EUNSUPPORTED: return "not supported";
    case FS_NOTFOUND:     return "not found";
    case FS_EXISTS:       return "already exists";
    case FS_DENIED:       return "denied";
    case FS_ETOOBIG:      return "too large";
    case FS_EINTERNAL:    return "internal error";
    case FS_EACCESS:      return "permission denied";
    case FS_ENOTFILE:     return "not a regular file";
    case FS_EMODEL:       return "made by another model";
    case FS_EKEY:         return "wrong or missing key";
    case FS_ETAMPER:      return "record fails its integrity check";
    case FS_EAUTH:        return "wrong user name or password";
    case FS_ESESSION:     return "no valid session";
    case FS_ELOCKED:      return "account locked";
    case FS_EDISABLED:    return "account disabled";
    case FS_EBUSY:        return "in use by another process or handle";
    case FS_EMODULE:      return "a part of facesearch is missing or from "
                                 "another build";
    }
    return "unknown error";
}

int fs_fail(fs_detail *d, int rc, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int fs_errno_code(int err)
{
    switch (err) {
    case ENOENT: case ENOTDIR:  return FS_ENOENT;
    case EACCES: case EPERM:    return FS_EACCESS;
    case EISDIR:                return FS_ENOTFILE;
    case ENOMEM:                return FS_ENOMEM;
    default:                    return FS_EIO;
    }
}
