/* temp_dir.h -- a fresh folder under /tmp for one test, with the paths its
 * database files take; removed afterwards with everything in it. The cmocka
 * setup and teardown of every test that needs files. */
#ifndef HT_TESTS_TEMP_DIR_H
#define HT_TESTS_TEMP_DIR_H

typedef struct temp_dir {
    char dir[64];
    char path[128]; /* dir/db.sqlite */
    char copy[128]; /* dir/exported.sqlite */
} temp_dir;

/* Setup: *state becomes a temp_dir. */
int temp_dir_make(void **state);
/* Teardown: its files, the folder and the temp_dir go. */
int temp_dir_remove(void **state);

#endif
