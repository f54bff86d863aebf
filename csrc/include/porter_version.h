/* The SDK's version, shared by the module (User-Agent, VERSION) and porter-lua (-v). */
#ifndef PORTER_VERSION_H
#define PORTER_VERSION_H
#define PORTER_VERSION "0.1.0"
#endif
