/*
 * fakedns.c - a misbehaving DNS server for the tests of dnsupdate/.
 *
 *   fakedns -k KEY [-p PORTFILE] [-m MODE] [-u UPSTREAM_PORT]
 *
 * Binds UDP and TCP on the same free port of 127.0.0.1, writes the port to
 * PORTFILE (or stdout), and answers every request in the way named by the
 * first label of its question (an UPDATE's zone), e.g. zone "nosig.test.",
 * or by -m MODE for every request:
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
 *	refused  REFUSED, signed (servfail, notimp, notauth: the same with
 *	         SERVFAIL, NOTIMP, NOTAUTH)
 *	signedonly  REFUSED to an unsigned request, else a correct answer
 *	noany    REFUSED to a query of type ANY, else a correct answer
 *	rcodeN   rcode N (any number from 0 to 15), signed
 *	tsigerrN NOTAUTH with an unsigned TSIG carrying error N, as named
 *	         answers BADSIG or BADKEY
 *	noaa     a query answered NOERROR, no records, AA clear (a server
 *	         that is not authoritative); every other answer has AA set
 *	resign   the first try of a message id gets no answer; a later try
 *	         (over UDP or TCP) is answered NOERROR when it was signed
 *	         later than the first (the client signs every try anew),
 *	         else REFUSED
 *
 * With -u, the relaying modes forward each request to a real server at
 * 127.0.0.1#UPSTREAM_PORT over the same transport and pass its answer on:
 *
 *	relay      every answer
 *	drop1      the first answer to each UPDATE (by message id) is dropped
 *	           over UDP: the server applied it, the client never heard
 *	udpsilent  nothing at all over UDP; TCP is relayed
 *	qdrop1     the first datagram of each query (by message id) over UDP
 *	           is dropped, as a server whose socket overflowed drops it
 *	dropfirst  only the very first UPDATE's first answer is dropped (an
 *	           UPDATE applied whose answer is late: what follows it for
 *	           the same name must not wait for it if it supersedes it)
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

#include <ldns/ldns.h>

#include "config/config.h"
#include "dnsupdate/dnsup_msg.h"

static struct cfg_tsig_key key, badkey;
static const char *force_mode;
static uint16_t upstream;

/* Message ids seen (drop1, resign) and the TSIG time of their first try. */
static uint64_t seen_time[65536];
static uint8_t seen[65536];

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


/* The request's mode: -m, or the first label of its question. */
static void
mode_of(const struct dnsup_msg *m, char *mode, size_t len)
{
	const char *q = dnsup_msg_qname(m);

	if (force_mode != NULL)
		snprintf(mode, len, "%s", force_mode);
	else
		snprintf(mode, len, "%.*s", (int)strcspn(q, "."), q);
}

static bool
is_update(const uint8_t *req, size_t len)
{
	return len > 2 && ((req[2] >> 3) & 0xf) == LDNS_PACKET_UPDATE;
}

/* The time signed of a request's TSIG, 0 when unsigned. */
static uint64_t
tsig_time_of(const uint8_t *req, size_t len)
{
	ldns_pkt *p = NULL;
	ldns_rr *t;
	uint64_t v = 0;

	if (ldns_wire2pkt(&p, req, len) != LDNS_STATUS_OK)
		return 0;
	if ((t = ldns_pkt_tsig(p)) != NULL && ldns_rr_rd_count(t) > 1 &&
	    ldns_rdf_size(ldns_rr_rdf(t, 1)) == 6) {
		const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(t, 1));

		for (int i = 0; i < 6; i++)
			v = v << 8 | d[i];
	}
	ldns_pkt_free(p);
	return v;
}

/* A query's answer without records and without AA, signed like named. */
static uint8_t *
answer_noaa(const uint8_t *req, size_t len, size_t *alen)
{
	ldns_pkt *p = NULL;
	ldns_rr *t;
	ldns_rdf *mac = NULL;
	uint8_t *w = NULL;

	*alen = 0;
	if (ldns_wire2pkt(&p, req, len) != LDNS_STATUS_OK)
		return NULL;
	if ((t = ldns_pkt_tsig(p)) != NULL) {
		if (ldns_rr_rd_count(t) > 3)
			mac = ldns_rdf_clone(ldns_rr_rdf(t, 3));
		ldns_pkt_set_tsig(p, NULL);
		ldns_rr_free(t);
	}
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, false);
	ldns_pkt_set_rcode(p, 0);
	if (mac != NULL && ldns_pkt_tsig_sign(p, key.name, key.secret, 300,
	    "hmac-sha256.", mac) != LDNS_STATUS_OK)
		goto done;
	if (ldns_pkt2wire(&w, p, alen) != LDNS_STATUS_OK) {
		w = NULL;
		*alen = 0;
	}
done:
	ldns_rdf_deep_free(mac);
	ldns_pkt_free(p);
	return w;
}

/* Ask the upstream server over UDP; the answer's length, or 0. */
static size_t
relay_udp(const uint8_t *req, size_t len, uint8_t *ans, size_t cap)
{
	struct sockaddr_in sin;
	struct pollfd p;
	ssize_t n = 0;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(upstream);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    send(fd, req, len, 0) != (ssize_t)len)
		goto done;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 3000) == 1)
		n = recv(fd, ans, cap, 0);
done:
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

/* The relaying modes over UDP. */
static void
udp_relay(int fd, const char *mode, const uint8_t *req, size_t len,
    struct sockaddr *sa, socklen_t sl)
{
	static uint8_t ans[65536];
	uint16_t id = (uint16_t)(req[0] << 8 | req[1]);
	size_t alen;

	if (strcmp(mode, "udpsilent") == 0)
		return;
	if (strcmp(mode, "qdrop1") == 0 && !is_update(req, len) && !seen[id]) {
		seen[id] = 1;
		return;		/* before the server sees it */
	}
	if ((alen = relay_udp(req, len, ans, sizeof(ans))) == 0)
		return;
	if (strcmp(mode, "drop1") == 0 && is_update(req, len) && !seen[id]) {
		seen[id] = 1;
		return;
	}
	if (strcmp(mode, "dropfirst") == 0 && is_update(req, len)) {
		static int dropped;

		if (!dropped++)
			return;
	}
	sendto_peer(fd, ans, alen, sa, sl);
}

/* The modes that answer with one rcode. */
static int
rcode_mode(const char *mode)
{
	static const struct { const char *name; int rcode; } tab[] = {
		{ "servfail", 2 }, { "notimp", 4 }, { "refused", 5 },
		{ "notauth", 9 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(mode, tab[i].name) == 0)
			return tab[i].rcode;
	if (strncmp(mode, "rcode", 5) == 0 && atoi(mode + 5) > 0)
		return atoi(mode + 5) & 0xf;
	return 0;
}

/* NOTAUTH, and a TSIG with an empty MAC and error err (unsigned). */
static uint8_t *
answer_tsig_error(const struct dnsup_msg *m, int err, size_t *alen)
{
	ldns_pkt *p = NULL;
	ldns_rr *t;
	uint8_t *a, *w = NULL;

	if ((a = dnsup_msg_answer(m, &key, 9, alen)) == NULL)
		return NULL;
	if (ldns_wire2pkt(&p, a, *alen) != LDNS_STATUS_OK) {
		free(a);
		return NULL;
	}
	free(a);
	if ((t = ldns_pkt_tsig(p)) != NULL && ldns_rr_rd_count(t) > 5) {
		ldns_rdf_deep_free(ldns_rr_set_rdf(t,
		    ldns_native2rdf_int16_data(0, NULL), 3));
		ldns_rdf_deep_free(ldns_rr_set_rdf(t,
		    ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, (uint16_t)err),
		    5));
	}
	if (ldns_pkt2wire(&w, p, alen) != LDNS_STATUS_OK) {
		w = NULL;
		*alen = 0;
	}
	ldns_pkt_free(p);
	return w;
}

static bool
relaying(const char *mode)
{
	return upstream != 0 && (strcmp(mode, "relay") == 0 ||
	    strcmp(mode, "drop1") == 0 || strcmp(mode, "dropfirst") == 0 ||
	    strcmp(mode, "udpsilent") == 0 || strcmp(mode, "qdrop1") == 0);
}

/*
 * resign: -1 (no answer) for the first try of a message id, then NOERROR
 * when the try was signed later than the first, else REFUSED.  Over UDP
 * and TCP alike: the client's retry after a UDP timeout comes over TCP.
 */
static int
resign_rcode(const struct dnsup_msg *m, const uint8_t *req, size_t len)
{
	uint16_t id = dnsup_msg_id(m);
	uint64_t t = tsig_time_of(req, len);

	if (!seen[id]) {
		seen[id] = 1;
		seen_time[id] = t;
		return -1;
	}
	return t > seen_time[id] ? 0 : 5;
}

static void
udp_answer(int fd, const uint8_t *req, size_t len, struct sockaddr *sa,
    socklen_t sl)
{
	struct dnsup_msg *m = NULL;
	uint8_t *a = NULL, junk[100];
	size_t alen = 0, i;
	char mode[64];

	if (dnsup_msg_parse(req, len, &m) == -1)
		return;
	mode_of(m, mode, sizeof(mode));
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)random();
	if (relaying(mode)) {
		udp_relay(fd, mode, req, len, sa, sl);
		goto done;
	}
	if (strcmp(mode, "silent") == 0)
		goto done;
	if (strcmp(mode, "resign") == 0) {
		int rc = resign_rcode(m, req, len);

		if (rc < 0)
			goto done;
		a = dnsup_msg_answer(m, &key, rc, &alen);
		goto send;
	}
	if (strcmp(mode, "noaa") == 0 && !is_update(req, len)) {
		a = answer_noaa(req, len, &alen);
		goto send;
	}
	if (strcmp(mode, "garbage") == 0) {
		sendto_peer(fd, junk, sizeof(junk), sa, sl);
		goto done;
	}
	if (strcmp(mode, "nosig") == 0)
		a = dnsup_msg_answer(m, NULL, 0, &alen);
	else if (strcmp(mode, "badmac") == 0)
		a = dnsup_msg_answer(m, &badkey, 0, &alen);
	else if (rcode_mode(mode) > 0)
		a = dnsup_msg_answer(m, &key, rcode_mode(mode), &alen);
	else if (strcmp(mode, "noany") == 0)
		a = dnsup_msg_answer(m, &key, dnsup_msg_qtype(m) == 255 ? 5 : 0,
		    &alen);
	else if (strncmp(mode, "tsigerr", 7) == 0)
		a = answer_tsig_error(m, atoi(mode + 7), &alen);
	else if (strcmp(mode, "signedonly") == 0)
		a = dnsup_msg_answer(m, &key, tsig_time_of(req, len) ? 0 : 5,
		    &alen);
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
send:
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

/* Read one length-prefixed message from fd into buf; its length or 0. */
static size_t
tcp_read_msg(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p;
	size_t got = 0, need = 2;
	ssize_t n;

	p.fd = fd;
	p.events = POLLIN;
	while (got < need) {
		if (poll(&p, 1, 3000) <= 0)
			return 0;
		if ((n = read(fd, buf + got, need - got)) <= 0)
			return 0;
		got += (size_t)n;
		if (got == 2 && need == 2) {
			need = 2 + ((size_t)buf[0] << 8 | buf[1]);
			if (need > cap)
				return 0;
		}
	}
	return need;
}

/* Ask the upstream server over TCP: the framed answer's length, or 0. */
static size_t
relay_tcp(const uint8_t *framed, size_t len, uint8_t *ans, size_t cap)
{
	struct sockaddr_in sin;
	size_t n = 0;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(upstream);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    write(fd, framed, len) == (ssize_t)len)
		n = tcp_read_msg(fd, ans, cap);
	close(fd);
	return n;
}

/* One TCP exchange, blocking with a bounded wait. */
static void
tcp_serve(int lfd)
{
	static uint8_t buf[65538], ans[65538];
	struct dnsup_msg *m = NULL;
	uint8_t *a = NULL;
	size_t need, alen = 0;
	char mode[64];
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return;
	if ((need = tcp_read_msg(fd, buf, sizeof(buf))) == 0)
		goto done;
	if (dnsup_msg_parse(buf + 2, need - 2, &m) == -1)
		goto done;
	mode_of(m, mode, sizeof(mode));
	if (strcmp(mode, "silent") == 0)
		goto done;
	if (relaying(mode)) {
		if ((alen = relay_tcp(buf, need, ans, sizeof(ans))) > 0)
			(void)write(fd, ans, alen);
		goto done;
	}
	if (strcmp(mode, "resign") == 0) {
		int rc = resign_rcode(m, buf + 2, need - 2);

		if (rc < 0)
			goto done;
		a = dnsup_msg_answer(m, &key, rc, &alen);
	} else
		a = dnsup_msg_answer(m, &key, 0, &alen);
	if (a == NULL)
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

	while ((ch = getopt(argc, argv, "k:p:m:u:")) != -1) {
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
		case 'm':
			force_mode = optarg;
			break;
		case 'u':
			upstream = (uint16_t)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: fakedns -k KEY [-p FILE] "
			    "[-m MODE] [-u PORT]\n");
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
