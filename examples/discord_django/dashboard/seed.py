"""A realistic community for the demo: a few universities' Discord, thousands of members with a
long-tailed points history, and tens of channels. Deterministic (seeded) so runs compare."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction

from core.models import User
from dashboard.models import Channel
from discord_sim import snowflake

UNIVERSITIES = ["Northbridge University", "Lakeside Institute of Technology", "St. Aldwin College",
                "Riverside State University"]
SHARED_CHANNELS = ["general", "announcements", "introductions", "help-python", "help-java",
                   "help-webdev", "algorithms", "data-science", "ml-reading-group", "exams",
                   "internships", "career-advice", "projects-showcase", "code-review", "hackathon",
                   "linux", "math-lounge", "off-topic", "memes", "gaming", "music", "resources"]
FIRST = ("Maya Liam Aisha Noah Sofia Mateo Yuki Omar Elena Lucas Priya Jonas Chloe Arjun Lea Diego "
         "Hana Felix Zara Ivan Amara Leo Nora Kenji Ines Samuel Mila Tariq Emma Hugo Fatima Theo "
         "Lina Rafael Ava Kofi Clara Mohammed Isla Ben Sara Viktor Nia Oscar Lucia Ali Freya Daniel "
         "Mei Pablo Ada Tomas Layla Erik Rosa Yusuf Alice Marco Ingrid Sam").split()
LAST = ("Chen Okafor Novak Silva Kim Haddad Rossi Müller Tanaka Kowalski Singh Dubois Garcia Ivanova "
        "Nguyen Larsen Mensah Costa Fischer Ahmed Schmidt Moreau Yamamoto Petrov Jansen Ortiz Ali "
        "Bianchi Andersen Hoffmann Park Rahman Lopez Weber Sato Kaur Martin Byrne Eriksson Mwangi "
        "Romano Kruger Walsh Alves Nakamura Dimitrov Osei Horvat Lund Reyes").split()


@dataclass
class Community:
    users: int
    channels: int
    created_users: bool


def seed_community(n_users: int = 4000, seed: int = 2024) -> Community:
    """Create the members and channels unless the database already has them."""
    if User.objects.exists():
        return Community(User.objects.count(), Channel.objects.count(), False)
    rng = random.Random(seed)
    now = dt.datetime.now(dt.timezone.utc)
    channels = [Channel(channel_id=str(snowflake()), name=name) for name in SHARED_CHANNELS]
    for uni in UNIVERSITIES:
        short = "".join(w[0] for w in uni.split() if w[0].isupper()).lower()
        channels.append(Channel(channel_id=str(snowflake()), name=f"{short}-study-group", university=uni))
    users, seen = [], set()
    for i in range(n_users):
        while True:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if rng.random() < 0.3:
                name = f"{name.split()[0].lower()}_{rng.randint(1, 999)}"
            if name not in seen:
                seen.add(name)
                break
        role = "student" if rng.random() < 0.92 else rng.choice(["mentor", "mentor", "admin"])
        # Long tail: most members have a few points, a few have thousands.
        points = int(rng.paretovariate(1.6) * 6) - 6 if rng.random() < 0.85 else 0
        last_active = now - dt.timedelta(seconds=rng.randint(0, 30 * 86400))
        users.append(User(discord_id=str(snowflake(last_active - dt.timedelta(days=400))), display_name=name,
                          university=rng.choices(UNIVERSITIES, weights=[4, 3, 2, 2])[0], role=role,
                          total_points=min(points, 900), updated_at=last_active))
    with transaction.atomic():
        Channel.objects.bulk_create(channels)
        User.objects.bulk_create(users, batch_size=1000)
    return Community(len(users), len(channels), True)
