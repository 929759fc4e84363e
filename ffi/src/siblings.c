/*
 * siblings.c: waking the stub of a model's next instance ahead of its
 * batch (siblings.h).
 */
#include <stdlib.h>

#include "siblings.h"
#include "tdn_wire.h"

/* A guess hits when its sibling's batch begins within the Worker's spin. */
#define HIT_WITHIN_NS ((uint64_t)TDN_SOON_SPIN_US * 1000)

void tdn_siblings_init(tdn_siblings* siblings, tdn_sibling_wake wake, tdn_sibling_wake call_off)
{
  /* The first guesses are a trial like any other. */
  *siblings = (tdn_siblings){
      .wake = wake,
      .call_off = call_off,
      .trial_left = TDN_SIBLINGS_HISTORY,
      .trial_every = TDN_SIBLINGS_TRIAL_EVERY,
  };
  pthread_mutex_init(&siblings->lock, NULL);
}

void tdn_siblings_destroy(tdn_siblings* siblings)
{
  free(siblings->members);
  siblings->members = NULL;
  siblings->count = siblings->capacity = 0;
  pthread_mutex_destroy(&siblings->lock);
}

/* The member's entry, or NULL. With the lock held. */
static tdn_sibling* find(tdn_siblings* siblings, const void* member)
{
  for (size_t i = 0; i < siblings->count; ++i) {
    if (siblings->members[i].member == member) {
      return &siblings->members[i];
    }
  }
  return NULL;
}

bool tdn_siblings_join(tdn_siblings* siblings, void* member)
{
  pthread_mutex_lock(&siblings->lock);
  bool joined = true;
  if (siblings->count == siblings->capacity) {
    const size_t capacity = siblings->capacity == 0 ? 4 : 2 * siblings->capacity;
    tdn_sibling* grown = realloc(siblings->members, capacity * sizeof(*grown));
    if (grown == NULL) {
      joined = false;
    } else {
      siblings->members = grown;
      siblings->capacity = capacity;
    }
  }
  if (joined) {
    siblings->members[siblings->count++] = (tdn_sibling){.member = member};
  }
  pthread_mutex_unlock(&siblings->lock);
  return joined;
}

void tdn_siblings_leave(tdn_siblings* siblings, const void* member)
{
  pthread_mutex_lock(&siblings->lock);
  tdn_sibling* entry = find(siblings, member);
  if (entry != NULL) {
    if (entry->executing) {
      siblings->executing--;
    }
    *entry = siblings->members[--siblings->count];
  }
  if (siblings->guessed == member) {
    siblings->guessed = NULL;
  }
  pthread_mutex_unlock(&siblings->lock);
}

static void note_outcome(tdn_outcomes* outcomes, bool yes)
{
  outcomes->bits = outcomes->bits << 1 | (yes ? 1u : 0u);
  if (outcomes->noted < TDN_SIBLINGS_HISTORY) {
    outcomes->noted++;
  }
}

/* How many of the known outcomes were yes. */
static uint32_t yes_count(const tdn_outcomes* outcomes)
{
  return (uint32_t)__builtin_popcount(outcomes->bits & ((1u << outcomes->noted) - 1));
}

/* Notes whether the guess in flight hit. With the lock held. */
static void note_guess(tdn_siblings* siblings, bool hit)
{
  siblings->guessed = NULL;
  siblings->hits_total += hit ? 1u : 0u;
  note_outcome(&siblings->hits, hit);
  const uint32_t noted = siblings->hits.noted;
  const uint32_t hits = yes_count(&siblings->hits);
  const uint32_t misses = noted - hits;
  if (siblings->trial_left > 0) {
    siblings->trial_left--;
    const bool failed = misses > TDN_SIBLINGS_HISTORY - TDN_SIBLINGS_HITS_NEEDED;
    if (failed || siblings->trial_left == 0) {
      /* Judged: a trial fails as soon as it cannot pass any more. */
      siblings->trial_left = 0;
      siblings->guessing = !failed;
      siblings->trial_every =
          failed ? (siblings->trial_every * 2 < TDN_SIBLINGS_TRIAL_EVERY_MAX
                        ? siblings->trial_every * 2
                        : TDN_SIBLINGS_TRIAL_EVERY_MAX)
                 : TDN_SIBLINGS_TRIAL_EVERY;
    }
  } else if (siblings->guessing && noted >= TDN_SIBLINGS_HISTORY &&
             hits < TDN_SIBLINGS_HITS_NEEDED) {
    siblings->guessing = false;
  }
}

/* Whether this answer may wake a guess: while guesses hit, during a trial,
 * or when a trial is due. With the lock held. */
static bool may_guess(tdn_siblings* siblings)
{
  if (siblings->guessing || siblings->trial_left > 0) {
    return true;
  }
  if (++siblings->since_trial < siblings->trial_every) {
    return false;
  }
  siblings->since_trial = 0;
  siblings->trial_left = TDN_SIBLINGS_HISTORY;
  siblings->hits = (tdn_outcomes){0};
  return true;
}

/* The idle member other than `except` whose last batch ended longest ago:
 * the front of Triton's queue as far as we know it (NULL: none). With the
 * lock held. */
static tdn_sibling* queue_front(tdn_siblings* siblings, const void* except)
{
  tdn_sibling* front = NULL;
  for (size_t i = 0; i < siblings->count; ++i) {
    tdn_sibling* entry = &siblings->members[i];
    if (entry->member != except && !entry->executing &&
        (front == NULL || entry->last_end_ns < front->last_end_ns)) {
      front = entry;
    }
  }
  return front;
}

void tdn_siblings_begin(tdn_siblings* siblings, const void* member, uint64_t now_ns)
{
  pthread_mutex_lock(&siblings->lock);
  tdn_sibling* entry = find(siblings, member);
  if (entry != NULL && siblings->guessed != NULL) {
    /* The guess was for the model's next batch, whichever instance got it;
     * a sibling woken for a batch that went elsewhere stops spinning. */
    if (siblings->guessed != member) {
      siblings->call_off((void*)siblings->guessed);
    }
    note_guess(
        siblings, siblings->guessed == member && now_ns - siblings->guessed_ns <= HIT_WITHIN_NS);
  }
  if (entry != NULL && !entry->executing) {
    /* Triton's queue woke the instance thread that had waited longest for
     * this request. When another took it (a thread that came back to the
     * queue before the woken one ran), the woken one found nothing and
     * waits again, now at the back of the queue: so it is here. */
    tdn_sibling* front = queue_front(siblings, member);
    if (front != NULL && front->last_end_ns < entry->last_end_ns) {
      front->last_end_ns = now_ns;
    }
    /* Only a gap in which nothing ran says how soon requests follow
     * answers; with batches overlapping, no stub sleeps for long anyway. */
    if (siblings->executing == 0 && siblings->last_end_ns != 0) {
      note_outcome(&siblings->short_gaps, now_ns - siblings->last_end_ns <= TDN_SIBLINGS_GAP_NS);
    }
    entry->executing = true;
    siblings->executing++;
  }
  pthread_mutex_unlock(&siblings->lock);
}

/* Whether at least half of the recent gaps were back to back. With the lock held. */
static bool back_to_back(const tdn_siblings* siblings)
{
  return siblings->short_gaps.noted == TDN_SIBLINGS_HISTORY &&
         2 * yes_count(&siblings->short_gaps) >= TDN_SIBLINGS_HISTORY;
}

void tdn_siblings_answered(tdn_siblings* siblings, const void* member, uint64_t now_ns)
{
  /* Never wait for the lock on the answer's path: another instance holds
   * it for a few instructions at most, and a missed early wake-up costs
   * only what it would have saved. */
  if (pthread_mutex_trylock(&siblings->lock) != 0) {
    return;
  }
  if (siblings->guessed != NULL) {
    siblings->call_off((void*)siblings->guessed);
    note_guess(siblings, false); /* no batch began since: nobody took it */
  }
  /* Only an answer with no other batch in flight: then the model's next
   * request finds every other stub idle. With batches overlapping, requests
   * are queued or on their way to instances that are busy, the guesses
   * miss, and a Worker spinning for nothing takes a core from them. */
  if (siblings->count > 1 && siblings->executing == 1 && back_to_back(siblings) &&
      may_guess(siblings)) {
    tdn_sibling* next = queue_front(siblings, member);
    if (next != NULL) {
      siblings->guessed = next->member;
      siblings->guessed_ns = now_ns;
      siblings->woken_total++;
      siblings->wake(next->member);
    }
  }
  pthread_mutex_unlock(&siblings->lock);
}

void tdn_siblings_end(tdn_siblings* siblings, const void* member, uint64_t now_ns)
{
  pthread_mutex_lock(&siblings->lock);
  tdn_sibling* entry = find(siblings, member);
  if (entry != NULL && entry->executing) {
    entry->executing = false;
    entry->last_end_ns = now_ns;
    siblings->executing--;
    siblings->last_end_ns = now_ns;
  }
  pthread_mutex_unlock(&siblings->lock);
}
