/* commands.h -- the operator's commands (hometab backup, restore,
 * create-user, admin, check-config); see commands.c. */
#ifndef HT_NATIVE_COMMANDS_H
#define HT_NATIVE_COMMANDS_H

#include "host/native/config.h"

/* Runs the command with c's settings and arguments; returns the exit code:
 * 0 done, 1 refused or failed (said why), 2 misused, 4 no database. */
int ht_command_run(const char *command, ht_native_config *c);

#endif
