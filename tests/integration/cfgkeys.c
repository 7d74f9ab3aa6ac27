/*
 * cfgkeys.c - print the configuration grammar, one "SECTION KEY" a line,
 * so that test_config_check.sh can check that failoverd.conf(5) and the
 * example document every key the parser knows.
 */
#include <stdio.h>

#include "config/config.h"

int
main(void)
{
	const char *sect, *key;

	for (size_t i = 0; config_key_at(i, &sect, &key); i++)
		printf("%s %s\n", sect, key);
	return 0;
}
