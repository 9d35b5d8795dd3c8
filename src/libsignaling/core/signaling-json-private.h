/* signaling-json-private.h: JSON as JavaScript reads and writes it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode *signaling_json_parse      (const char  *text,
                                     gsize        length,
                                     GError     **error);
JsonNode *signaling_json_parse_utf8 (const char  *text,
                                     gsize        length,
                                     GError     **error);

/* Where a member of the root object is in the text parsed. */
typedef struct
{
  gsize start;  /* the opening quote of its name */
  gsize end;    /* just after its value */
  gsize value_start;
  gsize name_length;  /* unescaped; in a scan, also as written */
  gboolean marked;
} SignalingJsonSpan;

typedef enum
{
  SIGNALING_JSON_SCAN_OBJECT,
  SIGNALING_JSON_SCAN_INVALID,
  SIGNALING_JSON_SCAN_NEEDS_PARSE,
} SignalingJsonScan;

JsonNode *signaling_json_parse_spans      (const char  *text,
                                           gsize        length,
                                           const char  *marked,
                                           GArray      *spans,
                                           GError     **error);
JsonNode *signaling_json_parse_with_spans (const char  *text,
                                           gsize        length,
                                           const char  *marked,
                                           GArray      *spans,
                                           GError     **error);
SignalingJsonScan signaling_json_scan_object (const char  *text,
                                              gsize        length,
                                              const char  *marked,
                                              GArray      *spans,
                                              GError     **error);
char     *signaling_json_to_string (JsonNode    *node);
void      signaling_json_append    (GString     *out,
                                    JsonNode    *node);
void      signaling_json_append_string (GString    *out,
                                        const char *text);
gboolean  signaling_json_is_unicode (const char *text);
gboolean  signaling_json_node_is_string (JsonNode *node);
gboolean  signaling_json_object_has_string (JsonObject *object,
                                            const char *name);

G_END_DECLS
