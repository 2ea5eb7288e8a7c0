/*
 * progress.c - see progress.h. A terminal gets one line rewritten in place ("\r" and an
 * erase to the end of the line); anything else that asked for it (--progress) gets one
 * plain line per update, which reads well in a log file.
 */
#include "replay/progress.h"

#include <unistd.h>

#include "base/monotime.h"
#include "base/timefmt.h"

#define PROGRESS_EVERY_MS 1000

void progress_start(progress *p, const char *cmd, progress_mode mode, FILE *to)
{
    *p = (progress){.cmd = cmd, .to = to, .event_max_ms = INT64_MIN};
    p->tty = isatty(fileno(to)) == 1;
    p->on = mode == PROGRESS_ON || (mode == PROGRESS_AUTO && p->tty);
    p->t0_ms = p->last_draw_ms = monotime_ms();
}

static void draw(progress *p, int64_t now_ms)
{
    char when[32] = "-";
    if (p->event_max_ms != INT64_MIN)
        time_format_rfc3339(p->event_max_ms, when, sizeof when);
    double s = (double)(now_ms - p->t0_ms) / 1000.0;
    fprintf(p->to, "%s%s: progress events=%llu events_per_s=%.0f event_time=%s elapsed=%.1fs%s",
            p->tty ? "\r" : "", p->cmd, (unsigned long long)p->events,
            s > 0 ? (double)p->events / s : 0.0, when, s, p->tty ? "\033[K" : "\n");
    fflush(p->to);
    p->drawn = p->tty;
    p->last_draw_ms = now_ms;
}

void progress_event(progress *p, int64_t event_ms)
{
    if (!p->on)
        return;
    p->events++;
    if (event_ms > p->event_max_ms)
        p->event_max_ms = event_ms;
    if (p->events % PROGRESS_CHECK_EVERY)
        return;
    int64_t now = monotime_ms();
    if (now - p->last_draw_ms >= PROGRESS_EVERY_MS)
        draw(p, now);
}

void progress_clear(progress *p)
{
    if (!p->drawn)
        return;
    fputs("\r\033[K", p->to);
    p->drawn = false;
}

void progress_end(progress *p)
{
    if (!p->on)
        return;
    draw(p, monotime_ms());
    if (p->tty)
        fputc('\n', p->to);
    p->drawn = false;
    p->on = false;
}
