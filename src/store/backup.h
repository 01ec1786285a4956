/* backup.h -- whole-database copies with SQLite's online backup API. */
#ifndef HT_STORE_BACKUP_H
#define HT_STORE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ht_store_copy_info {
    int64_t bytes;
    int pages;
    int schema_version;
} ht_store_copy_info;

/* See ht_database_backup and ht_database_restore (hometab.h). */
bool ht_store_backup(const char *db_path, const char *dest_path, ht_store_copy_info *info, char *err,
                     size_t err_size);
bool ht_store_restore(const char *backup_path, const char *db_path, ht_store_copy_info *info, char *err,
                      size_t err_size);

#endif
