"""Single sign-on per organization with OpenID Connect.

An admin names their provider (issuer, client id and secret, the email
domains it speaks for); a member signs in through it and is matched by a
verified email to their existing membership, never created. `oidc` talks to
the provider and checks its ID token; `services` holds the flow; `views` the
pages under /accounts/sso/.
"""
