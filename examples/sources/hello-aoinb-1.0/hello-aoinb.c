/* hello-aoinb: the example program aoinb's tests build into a .deb. */
#include <stdio.h>
#include <string.h>

#ifndef VERSION
#define VERSION "unknown"
#endif

static void usage(FILE *out)
{
	fputs("usage: hello-aoinb [--version] [--help] [NAME]\n", out);
}

int main(int argc, char **argv)
{
	const char *name = "aoinb";

	if (argc > 2) {
		usage(stderr);
		return 2;
	}
	if (argc == 2) {
		if (strcmp(argv[1], "--version") == 0) {
			printf("hello-aoinb %s\n", VERSION);
			return 0;
		}
		if (strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		name = argv[1];
	}
	printf("Hello, %s! (built by aoinb)\n", name);
	return 0;
}
