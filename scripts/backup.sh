#!/usr/bin/env bash
# Back up the database and the uploaded files (evidence) into a new folder:
#   DATABASE_URL=postgres://... MEDIA_ROOT=/srv/media scripts/backup.sh /backups/2025-07-01
# The folder gets database.dump (pg_dump, custom format: one consistent snapshot), media.tar.gz,
# media.sha256 (a checksum per file) and SHA256SUMS (of those three). The database is dumped
# first, so every file it refers to is in the archive. Restore with scripts/restore.sh.
# The backup holds password hashes, sessions and every evidence file: the folder is readable by
# its owner only (0700) and every file in it is 0600, whatever the caller's umask.
set -euo pipefail
umask 077

if [ $# -ne 1 ]; then
    echo "usage: $0 DEST_DIR (DATABASE_URL and MEDIA_ROOT from the environment)" >&2
    exit 2
fi
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
MEDIA=${MEDIA_ROOT:-media}
DEST=$1
if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST")" ]; then
    echo "$DEST is not empty: choose a new folder for each backup." >&2
    exit 1
fi
mkdir -p "$DEST" "$MEDIA"
chmod 700 "$DEST"

pg_dump --format=custom --no-owner --no-privileges --file "$DEST/database.dump" "$DATABASE_URL"
(cd "$MEDIA" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$DEST/media.sha256"
tar -C "$MEDIA" -czf "$DEST/media.tar.gz" .
(cd "$DEST" && sha256sum database.dump media.tar.gz media.sha256 >SHA256SUMS)
echo "Backed up to $DEST: $(wc -l <"$DEST/media.sha256") files, database $(du -h "$DEST/database.dump" | cut -f1)."
