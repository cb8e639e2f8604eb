/* native/shared-map.c: mapShared, a lane's slot file mapped read-write (shared/protocol/shm.ts). */
#ifndef NABLA_SHARED_MAP_H
#define NABLA_SHARED_MAP_H
#include <node_api.h>
void register_shared_map(napi_env env, napi_value exports);
#endif
