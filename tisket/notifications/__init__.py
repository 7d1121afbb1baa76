"""Notifications of the core: what a member is told (the bell), and how they want to be told
(the preferences matrix). Tickets decide who hears of what; the mails leave from there."""
