/* name_table.h -- a bounded table from names (strings) to values: the
 * resolver's caches, the fetcher's count of requests per destination. */
#ifndef HT_NATIVE_NAME_TABLE_H
#define HT_NATIVE_NAME_TABLE_H

#include <stddef.h>

typedef struct ht_name_table ht_name_table;
typedef void ht_name_table_free_fn(void *value);

/* max_entries 0: no bound (for a caller that bounds what it puts in).
 * free_value (or NULL) frees a value the table drops or is freed with. */
ht_name_table *ht_name_table_new(size_t max_entries, ht_name_table_free_fn *free_value);
void ht_name_table_free(ht_name_table *t);

void *ht_name_table_get(const ht_name_table *t, const char *name);
/* Adds or replaces (the old value is freed). When the table is full, the
 * entry put longest ago goes first. */
void ht_name_table_put(ht_name_table *t, const char *name, void *value);
/* Removes an entry and returns its value, not freed; NULL when absent. */
void *ht_name_table_take(ht_name_table *t, const char *name);
size_t ht_name_table_count(const ht_name_table *t);

#endif
