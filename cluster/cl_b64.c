/*
 * cl_b64.c - base64 for etcd's gateway.  Written out rather than taken
 * from libcrypto: EVP_DecodeBlock accepts whitespace and keeps the bytes
 * that padding stands for, and the strict form below is a screenful.
 */
#include "cluster/cl_b64.h"

#include <stdint.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
cl_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
cl_b64_decoded_max(size_t n)
{
	return n / 4 * 3;
}

void
cl_b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char	*p = in;
	uint32_t		 v;
	size_t			 i;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = b64_alphabet[v >> 18 & 63];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = b64_alphabet[v >> 6 & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*out++ = b64_alphabet[v >> 18 & 63];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*out++ = b64_alphabet[v >> 18 & 63];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = b64_alphabet[v >> 6 & 63];
		*out++ = '=';
	}
	*out = '\0';
}

/* 0-63, or -1 for anything outside the alphabet (padding included). */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool
cl_b64_decode(const char *in, size_t n, void *out, size_t *outlen)
{
	unsigned char	*o = out;
	uint32_t	 v;
	size_t		 i, pad = 0;
	int		 d[4], k;

	*outlen = 0;
	if (n % 4 != 0)
		return false;
	if (n >= 1 && in[n - 1] == '=')
		pad++;
	if (n >= 2 && in[n - 2] == '=')
		pad++;
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + 4 == n && k >= 4 - (int)pad)
				d[k] = 0;
			else if ((d[k] = b64_value(in[i + k])) < 0)
				return false;
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		*o++ = v >> 16 & 0xff;
		if (i + 4 == n && pad == 2) {
			if ((v & 0xffff) != 0)
				return false;	/* unused bits set */
			break;
		}
		*o++ = v >> 8 & 0xff;
		if (i + 4 == n && pad == 1) {
			if ((v & 0xff) != 0)
				return false;
			break;
		}
		*o++ = v & 0xff;
	}
	*outlen = (size_t)(o - (unsigned char *)out);
	return true;
}
