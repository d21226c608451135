# 26.11.2026 klo 22.48 (Kielitoimiston ohjepankki: päiväys ja kellonaika)
DATE_FORMAT = SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "G.i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = r"j.n.Y \k\l\o G.i"
