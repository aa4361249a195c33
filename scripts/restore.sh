#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and an empty media folder:
#   DATABASE_URL=postgres://.../new MEDIA_ROOT=/srv/media-new scripts/restore.sh /backups/2025-07-01
# Checks the archive's checksums first, restores the database in one transaction (all or
# nothing), unpacks the files and checks every file's checksum. Refuses to write over data.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BACKUP_DIR (DATABASE_URL and MEDIA_ROOT from the environment)" >&2
    exit 2
fi
: "${DATABASE_URL:?set DATABASE_URL to an empty PostgreSQL database}"
: "${MEDIA_ROOT:?set MEDIA_ROOT to an empty folder for the files}"
SRC=$1

(cd "$SRC" && sha256sum --check --quiet SHA256SUMS) || {
    echo "The backup in $SRC is damaged: its checksums do not match." >&2
    exit 1
}
tables=$(psql "$DATABASE_URL" -XAtc "select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ]; then
    echo "The target database is not empty ($tables tables): restore into a new database." >&2
    exit 1
fi
mkdir -p "$MEDIA_ROOT"
if [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
    echo "$MEDIA_ROOT is not empty: restore the files into a new folder." >&2
    exit 1
fi

pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$DATABASE_URL" "$SRC/database.dump"
tar -C "$MEDIA_ROOT" -xzf "$SRC/media.tar.gz"
if [ -s "$SRC/media.sha256" ]; then
    (cd "$MEDIA_ROOT" && sha256sum --check --quiet "$(realpath "$SRC")/media.sha256")
fi
echo "Restored $(wc -l <"$SRC/media.sha256") files and the database from $SRC."
