/*
 * id_map.h: a hash map from the stub's metric and family ids (non-zero
 * 64-bit integers) to pointers. The ids come from an untrusted process, so
 * the hash is seeded per map: a stub cannot choose ids that all collide.
 * Open addressing with linear probing; removal shifts entries back, so
 * there are no tombstones.
 */
#ifndef TDN_ID_MAP_H
#define TDN_ID_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tdn_id_map_slot {
  uint64_t id; /* 0: empty */
  void* value;
} tdn_id_map_slot;

typedef struct tdn_id_map {
  tdn_id_map_slot* slots;
  size_t capacity; /* a power of two, or 0 */
  size_t count;
  uint64_t seed;
} tdn_id_map;

void tdn_id_map_init(tdn_id_map* map);

/* Frees the slots (not the values). */
void tdn_id_map_destroy(tdn_id_map* map);

/* The value for `id`, or NULL. */
void* tdn_id_map_get(const tdn_id_map* map, uint64_t id);

/* Adds `id` (non-zero, not present) with a non-NULL value; false when out of memory. */
bool tdn_id_map_put(tdn_id_map* map, uint64_t id, void* value);

/* Removes `id` and returns its value, or NULL if absent. */
void* tdn_id_map_remove(tdn_id_map* map, uint64_t id);

/* Visits the slots: for (i = 0; i < map->capacity; ++i) if (map->slots[i].id != 0) ...
 * Removing while visiting may move later entries: collect, then remove. */

#endif /* TDN_ID_MAP_H */
