"""Notifications: telling people about their work where they already look, by e-mail or in their
team's chat group (WeCom, DingTalk and Feishu group robots).

The flow, all through the job outbox (`engine.jobs`), so that nothing is lost across restarts:

1. `engine.events.record` writes one "notify" job per event people may be told about, in the
   transaction of the change (`events.NOTIFIED`), while any channel is active.
2. `outbox.Fanout` (in a transaction) decides who is told on which channel, in which language and
   when (per-process settings, per-person preferences, quiet hours, digest), and writes one
   `notification` row per event, channel and recipient (a unique key: nobody is told twice) with a
   "notify_send" job each.
3. `delivery.Sender` (outside any transaction) sends them: an e-mail each, or, for a chat robot,
   several queued notifications batched into one message within the robot's rate limit; every
   message sent is written to the channel's delivery log.
4. `outbox.Digest` sends a person who chose the daily digest one e-mail a day with their open and
   overdue tasks.
"""
