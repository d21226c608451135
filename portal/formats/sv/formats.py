# 26.11.2026 kl. 22.48, as Swedish is written in Finland
DATE_FORMAT = SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "G.i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = r"j.n.Y \k\l. G.i"
