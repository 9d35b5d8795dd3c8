/* fuzz-common.c: set-up shared by every fuzz target
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <stdlib.h>

#include "fuzz.h"

/* g_error() and, with G_DEBUG=fatal-criticals, g_critical() stop the
 * program with SIGTRAP, which libFuzzer does not catch: it would die
 * without saving the input. SIGABRT it reports and saves. */
static void
on_trap (int signum)
{
  abort ();
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  signal (SIGTRAP, on_trap);
  return 0;
}
