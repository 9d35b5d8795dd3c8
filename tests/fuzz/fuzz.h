/* fuzz.h: what every fuzz target and the replay driver share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each target is a libFuzzer entry point. With -Dfuzzing=true (clang)
 * libFuzzer drives it; otherwise replay.c calls it on every file of the
 * checked-in corpus, so that the corpus is a regression suite in any
 * build, gcc included.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
