from tests.mail import deliver, make_mail


def test_smoke(acme, inbox, assistant):
    deliver(make_mail(to=inbox.address))
    bot = assistant(acme.agent)
    print(bot.tools())
    print(bot.ok("list_threads"))
