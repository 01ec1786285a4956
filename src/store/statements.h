/* statements.h -- every SQL statement the server runs, by name.
 *
 * Each X(NAME, "SQL") line becomes an ht_stmt_id HT_STMT_NAME and a prepared
 * statement in the open store. Grouped by the store file that uses them. */
#ifndef HT_STORE_STATEMENTS_H
#define HT_STORE_STATEMENTS_H

#define HT_STATEMENTS(X)                                                                 \
    /* meta.c */                                                                         \
    X(STREAM_GET, "SELECT position FROM stream WHERE id = 1")                           \
    X(STREAM_ADVANCE, "UPDATE stream SET position = position + 1 WHERE id = 1 "          \
                      "RETURNING position")

typedef enum ht_stmt_id {
#define HT_STMT_ENUM(name, sql) HT_STMT_##name,
    HT_STATEMENTS(HT_STMT_ENUM)
#undef HT_STMT_ENUM
    HT_STMT_COUNT
} ht_stmt_id;

#endif
