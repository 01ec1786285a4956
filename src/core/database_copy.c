/* database_copy.c -- the door's backup and restore (hometab.h): the
 * store's copies under the door's names. */
#include "hometab.h"

#include "store/backup.h"

bool ht_database_backup(const char *db_path, const char *dest_path, ht_backup_info *info, char *err,
                        size_t err_size) {
    ht_store_copy_info copy;
    bool ok = ht_store_backup(db_path, dest_path, &copy, err, err_size);
    *info = (ht_backup_info){copy.bytes, copy.pages, copy.schema_version};
    return ok;
}

bool ht_database_restore(const char *backup_path, const char *db_path, ht_backup_info *info, char *err,
                         size_t err_size) {
    ht_store_copy_info copy;
    bool ok = ht_store_restore(backup_path, db_path, &copy, err, err_size);
    *info = (ht_backup_info){copy.bytes, copy.pages, copy.schema_version};
    return ok;
}
