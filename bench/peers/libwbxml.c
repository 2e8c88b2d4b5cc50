/*
 * In-process benchmark of libwbxml 0.11.x, the peer our WBXML codec is
 * compared with (see bench/README.md).
 *
 *   gcc -O2 -Wall -o wbxml_bench bench/peers/libwbxml.c \
 *       $(pkg-config --cflags libwbxml2) -lwbxml2
 *
 *   wbxml_bench [-s SAMPLES] [-t MIN_MS] [-o OPS] [-v 1.1|1.2|1.3] [-n|-S] FILE.xml...
 *   wbxml_bench [-s SAMPLES] [-t MIN_MS] [-o OPS] --wbxml FILE.wbxml...
 *
 * XML mode: each XML file is converted once (converter API, WBXML 1.2, string
 * table disabled unless -S) to get the WBXML, then these operations are timed:
 *   xml2wbxml  converter create / disable_string_table / set_version / run /
 *              destroy, output freed (Expat parse + tree + encode)
 *   wbxml2xml  converter create / compact XML / run / destroy, output freed
 *   tree       wbxml_tree_from_wbxml + wbxml_tree_destroy
 *   parse      wbxml_parser_create + wbxml_parser_parse (no content handler:
 *              the bare tokenizer) + wbxml_parser_destroy
 * --wbxml mode: the files are WBXML (e.g. our encoder's output); wbxml2xml,
 * tree and parse are timed on exactly those bytes.
 *
 * Timing: for every (file, op) the iteration count N is calibrated so that
 * one sample of N back-to-back operations takes >= MIN_MS; SAMPLES samples
 * are taken and the median time per operation is reported.
 *
 * Output (stdout), one TSV line per (file, op), after a '#' header line:
 *   file  op  xml_bytes  wbxml_bytes  us_per_op  MBps_wbxml
 * MB = 10^6 bytes of WBXML. xml_bytes is the XML file size in XML mode and
 * the size of libwbxml's compact XML for the file in --wbxml mode.
 * Errors go to stderr with libwbxml's error string; the exit status is 1 if
 * any file or operation failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wbxml/wbxml.h> /* pkg-config --cflags gives -I/usr/include/libwbxml-1.0 */

/*
 * libwbxml2-dev (Debian, 0.11.8) installs only wbxml.h / wbxml_conv.h, but the
 * library exports the tree and parser entry points. Opaque declarations for
 * the 0.11.x ABI, written from the exported symbols' documented signatures.
 */
typedef struct BenchWbxmlTree BenchWbxmlTree;
typedef struct BenchWbxmlParser BenchWbxmlParser;

extern WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                        WBXMLCharsetMIBEnum charset, BenchWbxmlTree **tree);
extern void wbxml_tree_destroy(BenchWbxmlTree *tree);
extern BenchWbxmlParser *wbxml_parser_create(void);
extern void wbxml_parser_destroy(BenchWbxmlParser *parser);
extern WBXMLError wbxml_parser_parse(BenchWbxmlParser *parser, WB_UTINY *wbxml, WB_ULONG wbxml_len);
extern void wbxml_free(void *memblock); /* releases converter output */

/* ---- options ------------------------------------------------------------ */

enum { OP_XML2WBXML = 1, OP_WBXML2XML = 2, OP_TREE = 4, OP_PARSE = 8, OP_ALL = 15 };

static int opt_samples = 15;
static double opt_min_ms = 50.0;
static int opt_ops = OP_ALL;
static WBXMLVersion opt_version = WBXML_VERSION_12;
static int opt_strtbl = 0;
static int failures = 0;

/* ---- the input of the operation being timed ------------------------------- */

static WB_UTINY *in_xml;
static WB_ULONG in_xml_len;
static WB_UTINY *in_wbxml;
static WB_ULONG in_wbxml_len;
static WB_ULONG sink; /* keeps results observable */

typedef WBXMLError (*op_fn)(void);

static WBXMLError op_xml2wbxml(void) {
  WBXMLConvXML2WBXML *conv = NULL;
  WB_UTINY *out = NULL;
  WB_ULONG out_len = 0;
  WBXMLError ret = wbxml_conv_xml2wbxml_create(&conv);
  if (ret != WBXML_OK) return ret;
  if (!opt_strtbl) wbxml_conv_xml2wbxml_disable_string_table(conv);
  wbxml_conv_xml2wbxml_set_version(conv, opt_version);
  ret = wbxml_conv_xml2wbxml_run(conv, in_xml, in_xml_len, &out, &out_len);
  wbxml_conv_xml2wbxml_destroy(conv);
  sink += out_len;
  wbxml_free(out);
  return ret;
}

static WBXMLError op_wbxml2xml(void) {
  WBXMLConvWBXML2XML *conv = NULL;
  WB_UTINY *out = NULL;
  WB_ULONG out_len = 0;
  WBXMLError ret = wbxml_conv_wbxml2xml_create(&conv);
  if (ret != WBXML_OK) return ret;
  wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
  ret = wbxml_conv_wbxml2xml_run(conv, in_wbxml, in_wbxml_len, &out, &out_len);
  wbxml_conv_wbxml2xml_destroy(conv);
  sink += out_len;
  wbxml_free(out);
  return ret;
}

static WBXMLError op_tree(void) {
  BenchWbxmlTree *tree = NULL;
  WBXMLError ret = wbxml_tree_from_wbxml(in_wbxml, in_wbxml_len, WBXML_LANG_UNKNOWN, WBXML_CHARSET_UNKNOWN, &tree);
  sink += (tree != NULL);
  if (tree != NULL) wbxml_tree_destroy(tree);
  return ret;
}

static WBXMLError op_parse(void) {
  BenchWbxmlParser *parser = wbxml_parser_create();
  WBXMLError ret;
  if (parser == NULL) return WBXML_ERROR_NOT_ENOUGH_MEMORY;
  ret = wbxml_parser_parse(parser, in_wbxml, in_wbxml_len);
  wbxml_parser_destroy(parser);
  sink += 1;
  return ret;
}

/* ---- timing --------------------------------------------------------------- */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs fn n times; returns elapsed ns, or -1 (after reporting) on error. */
static double run_batch(op_fn fn, long n, const char *file, const char *name) {
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    WBXMLError ret = fn();
    if (ret != WBXML_OK) {
      fprintf(stderr, "wbxml_bench: %s: %s failed: %s (%d)\n", file, name,
              (const char *)wbxml_errors_string(ret), (int)ret);
      return -1.0;
    }
  }
  return now_ns() - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per operation, or -1 on error. */
static double measure(op_fn fn, const char *file, const char *name) {
  const double min_ns = opt_min_ms * 1e6;
  long n = 1;
  double t;
  /* Calibrate (doubles as warm-up): grow n until one batch takes >= MIN_MS. */
  for (;;) {
    t = run_batch(fn, n, file, name);
    if (t < 0) return -1.0;
    if (t >= min_ns) break;
    if (t < min_ns / 8) n *= 8;
    else n = (long)((double)n * min_ns * 1.1 / t) + 1;
  }
  double *per_op = malloc(sizeof(double) * (size_t)opt_samples);
  if (per_op == NULL) return -1.0;
  for (int s = 0; s < opt_samples; s++) {
    t = run_batch(fn, n, file, name);
    if (t < 0) {
      free(per_op);
      return -1.0;
    }
    per_op[s] = t / (double)n;
  }
  qsort(per_op, (size_t)opt_samples, sizeof(double), cmp_double);
  double med = (opt_samples & 1) ? per_op[opt_samples / 2]
                                 : (per_op[opt_samples / 2 - 1] + per_op[opt_samples / 2]) / 2.0;
  free(per_op);
  return med;
}

static void report(const char *file, const char *name, op_fn fn, WB_ULONG xml_bytes, WB_ULONG wbxml_bytes) {
  double ns = measure(fn, file, name);
  if (ns < 0) {
    failures++;
    return;
  }
  /* MB/s of WBXML = bytes / (ns * 1e-9) / 1e6 = bytes * 1000 / ns */
  printf("%s\t%s\t%lu\t%lu\t%.3f\t%.2f\n", file, name, (unsigned long)xml_bytes, (unsigned long)wbxml_bytes,
         ns / 1000.0, (double)wbxml_bytes * 1000.0 / ns);
  fflush(stdout);
}

/* ---- files ---------------------------------------------------------------- */

static WB_UTINY *read_file(const char *path, WB_ULONG *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "wbxml_bench: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap + 1);
  while (buf != NULL) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap) {
      if (ferror(f)) {
        fprintf(stderr, "wbxml_bench: %s: read error\n", path);
        free(buf);
        buf = NULL;
      }
      break;
    }
    cap *= 2;
    unsigned char *nb = realloc(buf, cap + 1);
    if (nb == NULL) free(buf);
    buf = nb;
  }
  fclose(f);
  if (buf == NULL) return NULL;
  buf[n] = 0; /* NUL after the data: harmless for WBXML, handy for XML */
  *len = (WB_ULONG)n;
  return (WB_UTINY *)buf;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* WBXML-consuming operations on in_wbxml; xml_bytes printed as given. */
static void time_decoders(const char *file, WB_ULONG xml_bytes) {
  if (opt_ops & OP_WBXML2XML) report(file, "wbxml2xml", op_wbxml2xml, xml_bytes, in_wbxml_len);
  if (opt_ops & OP_TREE) report(file, "tree", op_tree, xml_bytes, in_wbxml_len);
  if (opt_ops & OP_PARSE) report(file, "parse", op_parse, xml_bytes, in_wbxml_len);
}

static void bench_xml_file(const char *path) {
  const char *file = base_name(path);
  in_xml = read_file(path, &in_xml_len);
  if (in_xml == NULL) {
    failures++;
    return;
  }
  /* One conversion to get the WBXML the decoders are timed on. */
  WBXMLConvXML2WBXML *conv = NULL;
  WBXMLError ret = wbxml_conv_xml2wbxml_create(&conv);
  if (ret == WBXML_OK) {
    if (!opt_strtbl) wbxml_conv_xml2wbxml_disable_string_table(conv);
    wbxml_conv_xml2wbxml_set_version(conv, opt_version);
    ret = wbxml_conv_xml2wbxml_run(conv, in_xml, in_xml_len, &in_wbxml, &in_wbxml_len);
    wbxml_conv_xml2wbxml_destroy(conv);
  }
  if (ret != WBXML_OK) {
    fprintf(stderr, "wbxml_bench: %s: xml2wbxml failed: %s (%d)\n", file, (const char *)wbxml_errors_string(ret),
            (int)ret);
    failures++;
    free(in_xml);
    return;
  }
  if (opt_ops & OP_XML2WBXML) report(file, "xml2wbxml", op_xml2wbxml, in_xml_len, in_wbxml_len);
  time_decoders(file, in_xml_len);
  wbxml_free(in_wbxml);
  free(in_xml);
  in_wbxml = NULL;
  in_xml = NULL;
}

static void bench_wbxml_file(const char *path) {
  const char *file = base_name(path);
  WB_UTINY *data = read_file(path, &in_wbxml_len);
  if (data == NULL) {
    failures++;
    return;
  }
  in_wbxml = data;
  /* Check the bytes decode at all, and size the XML they give. */
  WB_ULONG xml_len = 0;
  WBXMLConvWBXML2XML *conv = NULL;
  WB_UTINY *xml = NULL;
  WBXMLError ret = wbxml_conv_wbxml2xml_create(&conv);
  if (ret == WBXML_OK) {
    wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
    ret = wbxml_conv_wbxml2xml_run(conv, in_wbxml, in_wbxml_len, &xml, &xml_len);
    wbxml_conv_wbxml2xml_destroy(conv);
    wbxml_free(xml);
  }
  if (ret != WBXML_OK) {
    fprintf(stderr, "wbxml_bench: %s: wbxml2xml failed: %s (%d)\n", file, (const char *)wbxml_errors_string(ret),
            (int)ret);
    failures++;
    /* tree/parse may still work (e.g. opaque content only the converter minds) */
    int saved = opt_ops;
    opt_ops &= ~OP_WBXML2XML;
    time_decoders(file, 0);
    opt_ops = saved;
  } else {
    time_decoders(file, xml_len);
  }
  free(data);
  in_wbxml = NULL;
}

static int parse_ops(const char *s) {
  int ops = 0;
  char *copy = strdup(s), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "xml2wbxml") == 0) ops |= OP_XML2WBXML;
    else if (strcmp(tok, "wbxml2xml") == 0) ops |= OP_WBXML2XML;
    else if (strcmp(tok, "tree") == 0) ops |= OP_TREE;
    else if (strcmp(tok, "parse") == 0) ops |= OP_PARSE;
    else if (strcmp(tok, "all") == 0) ops |= OP_ALL;
    else {
      fprintf(stderr, "wbxml_bench: unknown operation '%s' (xml2wbxml, wbxml2xml, tree, parse, all)\n", tok);
      ops = -1;
      break;
    }
  }
  free(copy);
  return ops;
}

static void usage(FILE *out) {
  fputs("usage: wbxml_bench [-s SAMPLES] [-t MIN_MS] [-o OPS] [-v 1.1|1.2|1.3] [-n|-S] FILE.xml...\n"
        "       wbxml_bench [-s SAMPLES] [-t MIN_MS] [-o OPS] --wbxml FILE.wbxml...\n"
        "  -s N       samples per (file, op), median reported (default 15)\n"
        "  -t MS      minimum duration of one sample in ms (default 50)\n"
        "  -o OPS     comma list of xml2wbxml,wbxml2xml,tree,parse (default all)\n"
        "  -v V       WBXML version written by xml2wbxml (default 1.2)\n"
        "  -n / -S    string table disabled (default) / enabled in xml2wbxml\n"
        "  --wbxml    inputs are WBXML: time wbxml2xml, tree, parse on those bytes\n"
        "output: file op xml_bytes wbxml_bytes us_per_op MBps_wbxml (TSV, MB = 1e6 bytes of WBXML)\n",
        out);
}

int main(int argc, char **argv) {
  int wbxml_mode = 0, i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) break;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "--wbxml") == 0) wbxml_mode = 1;
    else if (strcmp(a, "-n") == 0) opt_strtbl = 0;
    else if (strcmp(a, "-S") == 0) opt_strtbl = 1;
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if ((strcmp(a, "-s") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "-v") == 0) &&
               i + 1 < argc) {
      const char *v = argv[++i];
      char *end = NULL;
      if (a[1] == 's') {
        long n = strtol(v, &end, 10);
        if (*end != 0 || n < 1 || n > 100000) {
          fprintf(stderr, "wbxml_bench: bad -s '%s'\n", v);
          return 2;
        }
        opt_samples = (int)n;
      } else if (a[1] == 't') {
        double ms = strtod(v, &end);
        if (*end != 0 || !(ms > 0)) {
          fprintf(stderr, "wbxml_bench: bad -t '%s'\n", v);
          return 2;
        }
        opt_min_ms = ms;
      } else if (a[1] == 'o') {
        opt_ops = parse_ops(v);
        if (opt_ops <= 0) return 2;
      } else {
        if (strcmp(v, "1.1") == 0) opt_version = WBXML_VERSION_11;
        else if (strcmp(v, "1.2") == 0) opt_version = WBXML_VERSION_12;
        else if (strcmp(v, "1.3") == 0) opt_version = WBXML_VERSION_13;
        else {
          fprintf(stderr, "wbxml_bench: bad -v '%s' (1.1, 1.2, 1.3)\n", v);
          return 2;
        }
      }
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  printf("# file\top\txml_bytes\twbxml_bytes\tus_per_op\tMBps_wbxml\n");
  for (; i < argc; i++) {
    if (wbxml_mode) bench_wbxml_file(argv[i]);
    else bench_xml_file(argv[i]);
  }
  fprintf(stderr, "wbxml_bench: done (sink %lu)\n", (unsigned long)sink);
  return failures ? 1 : 0;
}
