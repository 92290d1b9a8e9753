"""Who is calling (authentication) and what they may do (authorization): decisions over plain
values (a certificate subject, a token, a user, a verb, a resource, a namespace, a name) that
every front door's filters call."""
