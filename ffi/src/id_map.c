/*
 * id_map.c: see id_map.h. The map stays at most half full.
 */
#include "id_map.h"

#include <stdlib.h>

#include "clock.h"

/* splitmix64's finalizer: every bit of the id moves every bit of the hash. */
static uint64_t mix(uint64_t value)
{
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ull;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebull;
  value ^= value >> 31;
  return value;
}

static size_t home(const tdn_id_map* map, uint64_t id)
{
  return (size_t)(mix(id ^ map->seed) & (map->capacity - 1));
}

void tdn_id_map_init(tdn_id_map* map)
{
  map->slots = NULL;
  map->capacity = 0;
  map->count = 0;
  /* Not secret, only unknown to the stub ahead of time. */
  map->seed = mix(tdn_now_ns() ^ (uint64_t)(uintptr_t)map);
}

void tdn_id_map_destroy(tdn_id_map* map)
{
  free(map->slots);
  map->slots = NULL;
  map->capacity = 0;
  map->count = 0;
}

void* tdn_id_map_get(const tdn_id_map* map, uint64_t id)
{
  if (map->capacity == 0 || id == 0) {
    return NULL;
  }
  for (size_t i = home(map, id);; i = (i + 1) & (map->capacity - 1)) {
    if (map->slots[i].id == id) {
      return map->slots[i].value;
    }
    if (map->slots[i].id == 0) {
      return NULL;
    }
  }
}

static void place(tdn_id_map* map, uint64_t id, void* value)
{
  size_t i = home(map, id);
  while (map->slots[i].id != 0) {
    i = (i + 1) & (map->capacity - 1);
  }
  map->slots[i].id = id;
  map->slots[i].value = value;
  map->count++;
}

static bool grow(tdn_id_map* map)
{
  const size_t capacity = map->capacity == 0 ? 16 : map->capacity * 2;
  tdn_id_map_slot* slots = calloc(capacity, sizeof(*slots));
  if (slots == NULL) {
    return false;
  }
  tdn_id_map_slot* old = map->slots;
  const size_t old_capacity = map->capacity;
  map->slots = slots;
  map->capacity = capacity;
  map->count = 0;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].id != 0) {
      place(map, old[i].id, old[i].value);
    }
  }
  free(old);
  return true;
}

bool tdn_id_map_put(tdn_id_map* map, uint64_t id, void* value)
{
  if ((map->count + 1) * 2 > map->capacity && !grow(map)) {
    return false;
  }
  place(map, id, value);
  return true;
}

void* tdn_id_map_remove(tdn_id_map* map, uint64_t id)
{
  if (map->capacity == 0 || id == 0) {
    return NULL;
  }
  const size_t mask = map->capacity - 1;
  size_t hole = home(map, id);
  while (map->slots[hole].id != id) {
    if (map->slots[hole].id == 0) {
      return NULL;
    }
    hole = (hole + 1) & mask;
  }
  void* value = map->slots[hole].value;
  /* Backward shift: move up every later entry of the run that may sit in
   * the hole (its home is not strictly between the hole and itself). */
  for (size_t next = (hole + 1) & mask; map->slots[next].id != 0; next = (next + 1) & mask) {
    const size_t wanted = home(map, map->slots[next].id);
    const bool stays = hole <= next ? (hole < wanted && wanted <= next)
                                    : (hole < wanted || wanted <= next);
    if (!stays) {
      map->slots[hole] = map->slots[next];
      hole = next;
    }
  }
  map->slots[hole].id = 0;
  map->slots[hole].value = NULL;
  map->count--;
  return value;
}
