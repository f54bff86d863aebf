/* Sandboxes (sandboxes.c). */
#ifndef SANDBOXES_H
#define SANDBOXES_H

#include "server.h"

void sandboxes_recover(void); /* after a restart: what was live is failed */

#endif
