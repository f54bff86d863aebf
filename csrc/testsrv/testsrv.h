/* The scripted HTTP server of the wire specs (porter-scripted-server). */
#ifndef TESTSRV_H
#define TESTSRV_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

#endif
