/*
 * fs_error.h - the one error convention of facesearch.
 *
 * Every fallible function in every module returns int: FS_OK (0) or a
 * negative FS_E* code.  Results go to out-parameters, written only on
 * success.  Expected outcomes that are not failures have their own codes
 * (FS_NOTFOUND, FS_EXISTS, FS_DENIED).  Codes are only ever appended,
 * never renumbered: scripts and stored audit records may carry them.
 *
 * Library code never prints.  Where a code alone cannot say what went
 * wrong (which file, which field, which tensor), the function also fills
 * an optional fs_detail supplied by the caller; only tools/ turns code and
 * detail into a message for a person.
 *
 * Thread-safe: fs_strerror returns static strings.
 */
#ifndef FS_ERROR_H
#define FS_ERROR_H

#include <stddef.h>

enum {
    FS_OK        =   0,
    FS_ENOMEM    =  -1,  /* out of memory */
    FS_EIO       =  -2,  /* read or write failed */
    FS_ENOENT    =  -3,  /* no such file */
    FS_EINVAL    =  -4,  /* bad argument or malformed input */
    FS_EFORMAT   =  -5,  /* not the expected file format, or corrupt */
    FS_EVERSION  =  -6,  /* a format version this build does not read */
    FS_ETRUNC    =  -7,  /* file shorter than its header declares */
    FS_ECHECKSUM =  -8,  /* stored checksum does not match the content */
    FS_ESHAPE    =  -9,  /* tensor or image of the wrong shape */
    FS_EDECODE   = -10,  /* image could not be decoded */
    FS_ETHREAD   = -11,  /* a thread could not be started */
    FS_EUNSUPPORTED = -12, /* valid input this build cannot handle */
    FS_NOTFOUND  = -13,  /* expected outcome: nothing matched */
    FS_EXISTS    = -14,  /* expected outcome: already there */
    FS_DENIED    = -15,  /* expected outcome: refused by the gate */
    FS_ETOOBIG   = -16,  /* input over a configured limit */
    FS_EINTERNAL = -17,  /* an impossible state; a bug */
    FS_EACCESS   = -18,  /* permission denied */
    FS_ENOTFILE  = -19,  /* a directory or device where a file belongs */
    FS_EMODEL    = -20,  /* data made by another model than this engine's */
    FS_EKEY      = -21,  /* the key is missing or is not this data's key */
    FS_ETAMPER   = -22,  /* a record fails its integrity check (G18, G21) */
    FS_EAUTH     = -23,  /* wrong user name or password */
    FS_ESESSION  = -24,  /* no valid session: none, expired or forged */
    FS_ELOCKED   = -25,  /* the account is locked after failed logins */
    FS_EDISABLED = -26,  /* the account is disabled (G3) */
    FS_EBUSY     = -27,  /* in use by another process or handle */
    FS_EMODULE   = -28   /* a part of facesearch itself is missing or is
                            from another build (detect/fs_vision.h) */
};

/* Fixed, lowercase text for a code; never NULL. */
const char *fs_strerror(int rc);

/* The human detail of the last failure of a call: which file, which
 * field, which tensor.  Callers that do not care pass NULL. */
typedef struct fs_detail {
    char msg[512];
} fs_detail;

/* Formats into d (when d is not NULL) and returns rc, so that a failing
 * path reads `return fs_fail(d, FS_EFORMAT, "bad magic in '%s'", path);`. */
int fs_fail(fs_detail *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The FS_E* code for an errno value of a failed open/read. */
int fs_errno_code(int err);

#endif /* FS_ERROR_H */
