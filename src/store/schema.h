#ifndef HT_STORE_SCHEMA_H
#define HT_STORE_SCHEMA_H

/* How many migrations exist, i.e. the schema version this build writes. */
int ht_schema_version_count(void);
/* The SQL taking the schema from from_version to from_version + 1. */
const char *ht_schema_migration(int from_version);

#endif
