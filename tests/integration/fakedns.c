/*
 * fakedns.c - a misbehaving DNS server for the tests of dnsupdate/.
 *
 *   fakedns -k KEY [-p PORTFILE]
 *
 * Binds UDP and TCP on the same free port of 127.0.0.1, writes the port to
 * PORTFILE (or stdout), and answers every request in the way named by the
 * first label of its question (an UPDATE's zone), e.g. zone "nosig.test.":
 *
 *	good     a correct answer, signed with KEY
 *	nosig    NOERROR, unsigned
 *	badmac   NOERROR, signed with another secret
 *	wrongid  correct, but with another message id
 *	wrongq   correct, but for another question
 *	cut      the first half of a correct answer
 *	tc       TC set over UDP; a correct answer over TCP
 *	garbage  random bytes
 *	silent   nothing
 *	mixed    garbage, an unsigned answer, a bad MAC, then a correct one
 *	refused  REFUSED, signed
 *
 * Runs until SIGTERM.  A blocking poll() loop: this is a test fixture, not
 * the daemon.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "dnsupdate/dnsup_msg.h"

static struct cfg_tsig_key key, badkey;

static int
load_key(const char *arg, struct cfg_tsig_key *k)
{
	char buf[4096], *p, *q;
	FILE *f;
	size_t n;

	memset(k, 0, sizeof(*k));
	k->alg = CFG_TSIG_HMAC_SHA256;
	if ((f = fopen(arg, "r")) == NULL)
		return sscanf(arg, "hmac-sha256:%255[^:]:%511s", k->name,
		    k->secret) == 2 ? 0 : -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strstr(buf, "key \"")) == NULL ||
	    (q = strchr(p + 5, '"')) == NULL)
		return -1;
	snprintf(k->name, sizeof(k->name), "%.*s", (int)(q - p - 5), p + 5);
	if ((p = strstr(buf, "secret \"")) == NULL ||
	    sscanf(p + 8, "%511[^\"]", k->secret) != 1)
		return -1;
	return 0;
}

static void
sendto_peer(int fd, const void *b, size_t l, const struct sockaddr *sa,
    socklen_t sl)
{
	(void)sendto(fd, b, l, 0, sa, sl);
}

static void
udp_answer(int fd, const uint8_t *req, size_t len, struct sockaddr *sa,
    socklen_t sl)
{
	struct dnsup_msg *m = NULL;
	uint8_t *a = NULL, junk[100];
	size_t alen = 0, i;
	const char *q;
	char mode[64];

	if (dnsup_msg_parse(req, len, &m) == -1)
		return;
	q = dnsup_msg_qname(m);
	snprintf(mode, sizeof(mode), "%.*s", (int)strcspn(q, "."), q);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)random();
	if (strcmp(mode, "silent") == 0)
		goto done;
	if (strcmp(mode, "garbage") == 0) {
		sendto_peer(fd, junk, sizeof(junk), sa, sl);
		goto done;
	}
	if (strcmp(mode, "nosig") == 0)
		a = dnsup_msg_answer(m, NULL, 0, &alen);
	else if (strcmp(mode, "badmac") == 0)
		a = dnsup_msg_answer(m, &badkey, 0, &alen);
	else if (strcmp(mode, "refused") == 0)
		a = dnsup_msg_answer(m, &key, 5, &alen);
	else if (strcmp(mode, "mixed") == 0) {
		/* Same id as the request for all but the garbage. */
		junk[0] = req[0];
		junk[1] = req[1];
		sendto_peer(fd, junk, sizeof(junk), sa, sl);
		if ((a = dnsup_msg_answer(m, NULL, 0, &alen)) != NULL)
			sendto_peer(fd, a, alen, sa, sl);
		free(a);
		if ((a = dnsup_msg_answer(m, &badkey, 0, &alen)) != NULL)
			sendto_peer(fd, a, alen, sa, sl);
		free(a);
		a = dnsup_msg_answer(m, &key, 0, &alen);
	} else
		a = dnsup_msg_answer(m, &key, 0, &alen);
	if (a == NULL || alen < 12)
		goto done;
	if (strcmp(mode, "wrongid") == 0)
		a[1] ^= 0x5a;
	else if (strcmp(mode, "wrongq") == 0)
		a[13] ^= 0x20 ^ 0x01;	/* a letter of the first label */
	else if (strcmp(mode, "cut") == 0)
		alen /= 2;
	else if (strcmp(mode, "tc") == 0)
		a[2] |= 0x02;
	sendto_peer(fd, a, alen, sa, sl);
done:
	free(a);
	dnsup_msg_free(m);
}

/* One TCP exchange, blocking with a bounded wait. */
static void
tcp_serve(int lfd)
{
	struct pollfd p;
	struct dnsup_msg *m = NULL;
	uint8_t buf[65538], *a = NULL;
	size_t got = 0, need = 2, alen = 0;
	ssize_t n;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return;
	p.fd = fd;
	p.events = POLLIN;
	while (got < need) {
		if (poll(&p, 1, 2000) <= 0)
			goto done;
		if ((n = read(fd, buf + got, need - got)) <= 0)
			goto done;
		got += (size_t)n;
		if (got == 2 && need == 2)
			need = 2 + ((size_t)buf[0] << 8 | buf[1]);
	}
	if (dnsup_msg_parse(buf + 2, need - 2, &m) == -1)
		goto done;
	if ((a = dnsup_msg_answer(m, &key, 0, &alen)) == NULL)
		goto done;
	buf[0] = (uint8_t)(alen >> 8);
	buf[1] = (uint8_t)alen;
	memcpy(buf + 2, a, alen);
	(void)write(fd, buf, alen + 2);
done:
	free(a);
	dnsup_msg_free(m);
	close(fd);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct pollfd pf[2];
	uint8_t buf[65536];
	const char *portfile = NULL;
	int ufd = -1, tfd = -1, ch, i, one = 1;
	ssize_t n;
	FILE *f;

	while ((ch = getopt(argc, argv, "k:p:")) != -1) {
		switch (ch) {
		case 'k':
			if (load_key(optarg, &key) == -1) {
				fprintf(stderr, "fakedns: bad key\n");
				return 2;
			}
			break;
		case 'p':
			portfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: fakedns -k KEY [-p FILE]\n");
			return 2;
		}
	}
	if (key.name[0] == '\0') {
		fprintf(stderr, "fakedns: -k KEY is required\n");
		return 2;
	}
	badkey = key;
	snprintf(badkey.secret, sizeof(badkey.secret), "%s",
	    "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 50; i++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((ufd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
		    bind(ufd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(ufd, (struct sockaddr *)&sin, &sl) == -1)
			return 1;
		tfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (tfd != -1 && bind(tfd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0 && listen(tfd, 16) == 0)
			break;
		close(ufd);
		if (tfd != -1)
			close(tfd);
		ufd = tfd = -1;
	}
	if (ufd == -1)
		return 1;
	if (portfile != NULL && (f = fopen(portfile, "w")) != NULL) {
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
	} else {
		printf("%u\n", ntohs(sin.sin_port));
		fflush(stdout);
	}
	pf[0].fd = ufd;
	pf[0].events = POLLIN;
	pf[1].fd = tfd;
	pf[1].events = POLLIN;
	for (;;) {
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);

			n = recvfrom(ufd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&peer, &pl);
			if (n > 0)
				udp_answer(ufd, buf, (size_t)n,
				    (struct sockaddr *)&peer, pl);
		}
		if (pf[1].revents & POLLIN)
			tcp_serve(tfd);
	}
}
