/*
 * cl_b64.h - base64 (RFC 4648, standard alphabet, padded), the form etcd's
 * JSON gateway gives every key and value in (Go's encoding/json does so
 * for []byte).  Pure: no allocation, no I/O.
 */
#ifndef FAILOVERD_CL_B64_H
#define FAILOVERD_CL_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Characters cl_b64_encode() writes for n bytes, without the NUL. */
size_t	 cl_b64_encoded_len(size_t n);
/* Largest number of bytes n characters of base64 can decode to. */
size_t	 cl_b64_decoded_max(size_t n);

/*
 * Encode n bytes of in into out, which must hold cl_b64_encoded_len(n) + 1
 * characters; out is NUL-terminated.
 */
void	 cl_b64_encode(const void *in, size_t n, char *out);

/*
 * Decode n characters of in into out (room for cl_b64_decoded_max(n)
 * bytes); *outlen is set to the bytes written.  Strict, as Go's decoder
 * is: the length is a multiple of 4, padding only at the end, no
 * whitespace, unused bits zero.  false (out undefined) when in is not
 * such base64.
 */
bool	 cl_b64_decode(const char *in, size_t n, void *out, size_t *outlen);

#endif
