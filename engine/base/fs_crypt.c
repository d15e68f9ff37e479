/*
 * fs_crypt.c - AES-256-GCM, HMAC-SHA256, SHA-256 and randomness over
 * OpenSSL 3's EVP interface.
 *
 * A GCM nonce must never repeat under one key; every seal draws a fresh
 * one from the CSPRNG (2^-32 collision risk only after 2^32 messages per
 * key, far beyond a gallery's records between key rotations).
 */
#include "fs_crypt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* OpenSSL 3 looks an algorithm up on every use unless it is fetched once;
 * for small records the look-up cost more than the cipher.  Fetched on
 * first use, kept for the life of the process. */
static EVP_CIPHER *gcm_cipher;
static EVP_MAC    *hmac_mac;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void fetch(void)
{
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int fs_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? FS_OK : FS_EINTERNAL;
}

/* One GCM pass either way; enc says which. */
static int gcm(int enc, const uint8_t *key, const void *aad, size_t aadlen,
               const uint8_t *in, size_t len, uint8_t *out,
               const uint8_t *nonce, uint8_t *tag)
{
    if (len > INT32_MAX || aadlen > INT32_MAX)
        return FS_ETOOBIG;
    pthread_once(&fetched, fetch);
    if (!gcm_cipher)
        return FS_EINTERNAL;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return FS_ENOMEM;
    int ok = EVP_CipherInit_ex(c, gcm_cipher, NULL, NULL, NULL, enc)
             && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, FS_NONCE_BYTES,
                                    NULL)
             && EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc);
    int n = 0;
    if (ok && aadlen)
        ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen);
    if (ok && len)
        ok = EVP_CipherUpdate(c, out, &n, in, (int)len);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, FS_TAG_BYTES, tag);
    int rc = FS_OK;
    if (!ok) {
        rc = FS_EINTERNAL;
    } else if (EVP_CipherFinal_ex(c, out + n, &n) != 1) {
        rc = enc ? FS_EINTERNAL : FS_ETAMPER;
    } else if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
                                          FS_TAG_BYTES, tag)) {
        rc = FS_EINTERNAL;
    }
    EVP_CIPHER_CTX_free(c);
    if (rc != FS_OK && !enc)
        fs_wipe(out, len);
    return rc;
}

int fs_seal(const uint8_t key[FS_KEY_BYTES], const void *aad, size_t aadlen,
            const uint8_t *in, size_t len, uint8_t *out,
            uint8_t nonce[FS_NONCE_BYTES], uint8_t tag[FS_TAG_BYTES])
{
    int rc = fs_random(nonce, FS_NONCE_BYTES);
    return rc == FS_OK ? gcm(1, key, aad, aadlen, in, len, out, nonce, tag)
                       : rc;
}

int fs_unseal(const uint8_t key[FS_KEY_BYTES], const void *aad, size_t aadlen,
              const uint8_t *in, size_t len, uint8_t *out,
              const uint8_t nonce[FS_NONCE_BYTES],
              const uint8_t tag[FS_TAG_BYTES])
{
    uint8_t t[FS_TAG_BYTES];
    memcpy(t, tag, sizeof t);           /* GCM wants it writable */
    return gcm(0, key, aad, aadlen, in, len, out, nonce, t);
}

int fs_seal_buf(const uint8_t key[FS_KEY_BYTES], const void *aad,
                size_t aadlen, const uint8_t *in, size_t len, uint8_t *out)
{
    return fs_seal(key, aad, aadlen, in, len, out + FS_NONCE_BYTES, out,
                   out + FS_NONCE_BYTES + len);
}

int fs_unseal_buf(const uint8_t key[FS_KEY_BYTES], const void *aad,
                  size_t aadlen, const uint8_t *in, size_t inlen,
                  uint8_t *out)
{
    if (inlen < FS_SEAL_OVERHEAD)
        return FS_ETAMPER;
    size_t len = inlen - FS_SEAL_OVERHEAD;
    return fs_unseal(key, aad, aadlen, in + FS_NONCE_BYTES, len, out, in,
                     in + FS_NONCE_BYTES + len);
}

void fs_sha256(const void *in, size_t len, uint8_t out[FS_SHA256_BYTES])
{
    unsigned int n = FS_SHA256_BYTES;
    EVP_Digest(in, len, out, &n, EVP_sha256(), NULL);
}

void fs_hmac_sha256(const uint8_t key[FS_KEY_BYTES], const void *const *part,
                    const size_t *len, size_t n, uint8_t out[FS_SHA256_BYTES])
{
    /* HMAC over parts by hand from two digests would be easy to get wrong;
     * EVP_MAC is OpenSSL 3's one interface for it. */
    pthread_once(&fetched, fetch);
    EVP_MAC_CTX *c = hmac_mac ? EVP_MAC_CTX_new(hmac_mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()
    };
    size_t outl = 0;
    int ok = c && EVP_MAC_init(c, key, FS_KEY_BYTES, params);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(c, part[i], len[i]);
    if (ok)
        ok = EVP_MAC_final(c, out, &outl, FS_SHA256_BYTES);
    if (!ok || outl != FS_SHA256_BYTES)
        memset(out, 0, FS_SHA256_BYTES);   /* matches no chain: fails safe */
    EVP_MAC_CTX_free(c);
}

int fs_equal_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void fs_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

int fs_secure_process(fs_detail *d)
{
    const struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return fs_fail(d, FS_EINTERNAL, "cannot turn core dumps off: %s",
                       strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return fs_fail(d, FS_EINTERNAL, "cannot make the process "
                       "undumpable: %s", strerror(errno));
    return FS_OK;
}

void fs_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int fs_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n)
        return FS_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return FS_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return FS_OK;
}
