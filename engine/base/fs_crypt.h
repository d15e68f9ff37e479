/*
 * fs_crypt.h - the few cryptographic primitives facesearch uses, over
 * OpenSSL 3, in one place so every module seals, hashes and compares the
 * same way.  Base layer: any module may include it.
 *
 *  - AES-256-GCM with a fresh random 96-bit nonce per message and the
 *    caller's associated data (G21: the record's id, so a sealed record
 *    cannot be moved to another key);
 *  - HMAC-SHA256 and SHA-256 (G18's audit chain, token hashes);
 *  - the system's CSPRNG, constant-time comparison, wiping.
 *
 * Thread-safe: no state of its own.
 */
#ifndef FS_CRYPT_H
#define FS_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "fs_error.h"

#define FS_KEY_BYTES    32      /* AES-256 and HMAC keys */
#define FS_NONCE_BYTES  12
#define FS_TAG_BYTES    16
#define FS_SEAL_OVERHEAD (FS_NONCE_BYTES + FS_TAG_BYTES)
#define FS_SHA256_BYTES 32

/* n random bytes from the system's CSPRNG: FS_OK or FS_EINTERNAL. */
int  fs_random(void *buf, size_t n);

/* Encrypts len bytes of in into out (may be in itself) and writes the
 * nonce and tag: one call per message, a new nonce each time. */
int  fs_seal(const uint8_t key[FS_KEY_BYTES], const void *aad, size_t aadlen,
             const uint8_t *in, size_t len, uint8_t *out,
             uint8_t nonce[FS_NONCE_BYTES], uint8_t tag[FS_TAG_BYTES]);
/* The inverse: FS_OK, or FS_ETAMPER when the tag does not hold (a wrong
 * key, other associated data, or any changed byte); out is then wiped. */
int  fs_unseal(const uint8_t key[FS_KEY_BYTES], const void *aad, size_t aadlen,
               const uint8_t *in, size_t len, uint8_t *out,
               const uint8_t nonce[FS_NONCE_BYTES],
               const uint8_t tag[FS_TAG_BYTES]);

/* The same as one buffer, nonce || ciphertext || tag (len +
 * FS_SEAL_OVERHEAD bytes): what small wrapped keys and files use. */
int  fs_seal_buf(const uint8_t key[FS_KEY_BYTES], const void *aad,
                 size_t aadlen, const uint8_t *in, size_t len, uint8_t *out);
int  fs_unseal_buf(const uint8_t key[FS_KEY_BYTES], const void *aad,
                   size_t aadlen, const uint8_t *in, size_t inlen,
                   uint8_t *out);

void fs_sha256(const void *in, size_t len, uint8_t out[FS_SHA256_BYTES]);
/* HMAC-SHA256 over the concatenation of n parts. */
void fs_hmac_sha256(const uint8_t key[FS_KEY_BYTES], const void *const *part,
                    const size_t *len, size_t n,
                    uint8_t out[FS_SHA256_BYTES]);

/* 1 when the n bytes are equal, in time that does not depend on where
 * they differ. */
int  fs_equal_ct(const void *a, const void *b, size_t n);
/* Wipes memory the compiler may not optimise away. */
void fs_wipe(void *p, size_t n);

/* Keeps the keys this process will hold out of core dumps and away from
 * other processes of the same user: no core file (RLIMIT_CORE 0, soft and
 * hard, so it cannot be raised again without privilege), and the process
 * not dumpable (no core, no ptrace attach, /proc/PID/mem closed to the
 * same user).  Called before a key is read (the gate at open, the CLI
 * first thing); idempotent.  FS_EINTERNAL naming the call that failed. */
int  fs_secure_process(fs_detail *d);

/* Lowercase hex of n bytes into out (2n + 1 bytes); and back: FS_EINVAL
 * unless hex is exactly 2n hex digits. */
void fs_hex(const uint8_t *in, size_t n, char *out);
int  fs_unhex(const char *hex, uint8_t *out, size_t n);

#endif /* FS_CRYPT_H */
