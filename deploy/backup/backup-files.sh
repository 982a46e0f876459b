#!/usr/bin/env bash
# backup-files.sh: backs up the bytes of the shipments' files.
#
# FILESYSTEM_DISK=local: a tar.gz of the local file store ($APP_DATA_DIR/files,
#   the objects under their keys; the in-progress uploads of .tmp/ are left
#   out) -> BACKUP_DIR/files/files-<UTC>.tar.gz + .sha256, then prunes those
#   older than BACKUP_FILES_RETENTION_DAYS (default 7). Online: objects are
#   written once under a fresh key (renamed into place when complete) and
#   never modified, so the archive holds whole objects. An object deleted while
#   it is being read makes tar fail: the run fails and should be retried.
#
# FILESYSTEM_DISK=s3: the objects are protected by the bucket itself: turn on
#   versioning (with a lifecycle rule expiring noncurrent versions after 7
#   days) and replication to a bucket in another region or account. With
#   BACKUP_S3_DESTINATION set (an s3:// URL, or a directory) and the aws CLI
#   installed, this script also copies the objects under FILE_KEY_PREFIX
#   (default files/) of AWS_BUCKET there with `aws s3 sync`: s3://AWS_BUCKET/
#   files/a/b lands at BACKUP_S3_DESTINATION/a/b. The copy is not pruned and,
#   unless BACKUP_S3_SYNC_DELETE=yes adds --delete, a deletion in the bucket
#   never reaches it: its retention is the destination's own lifecycle rules.
#   Without BACKUP_S3_DESTINATION the script fails, unless
#   BACKUP_S3_REPLICATED=yes states that versioning and replication are the
#   backup. One aws CLI call reaches both sides: same credentials, same
#   AWS_ENDPOINT. NOTE: this path is tested only against versitygw with aws
#   CLI v1 (deploy/backup/backup_test.go), not against AWS itself.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0")
Backs up the file store of FILESYSTEM_DISK (local: \$APP_DATA_DIR/files into
\$BACKUP_DIR/files, pruning those older than \$BACKUP_FILES_RETENTION_DAYS
days, default 7; s3: see the comment at the top of this script)." "$@"
((${#ARGS[@]} == 0)) || die "unexpected argument ${ARGS[0]} (see --help)"

default FILESYSTEM_DISK local
case $FILESYSTEM_DISK in
local)
	days BACKUP_FILES_RETENTION_DAYS 7
	need_cmd tar gzip sha256sum flock
	root=$(files_root)
	[[ -d $root ]] || die "no local file store at ${root} (APP_DATA_DIR=${APP_DATA_DIR}); is the data volume mounted?"
	dir=$(backup_dir files)
	lock files
	clean_partials "$dir"
	final="$dir/files-$(utc_stamp).tar.gz"
	partial tmp "$final"
	log "backing up the local file store ${root}"
	# tar exits 1 when a file changed while it was read (objects never do)
	# and 2 on an error, such as an object that cannot be read or that was
	# deleted during the run: then the run fails.
	status=0
	tar --create --gzip --file="$tmp" --directory="$root" --exclude=./.tmp --numeric-owner . || status=$?
	((status == 0)) || ((status == 1)) || die "tar of ${root} failed (exit ${status})"
	((status == 0)) || warn "tar: some file changed while it was read"
	listing=$(tar --list --gzip --file="$tmp") || die "the archive does not read back"
	count=$(grep -vc '/$' <<<"$listing" || true)
	log "archived ${count} file(s)"
	publish "$tmp" "$final"
	prune "$dir" files "$BACKUP_FILES_RETENTION_DAYS"
	;;
s3)
	if [[ -z ${BACKUP_S3_DESTINATION:-} ]]; then
		if [[ ${BACKUP_S3_REPLICATED:-} == yes ]]; then
			log "FILESYSTEM_DISK=s3 and BACKUP_S3_REPLICATED=yes: the bucket's versioning and replication back up the objects; nothing to do"
			exit 0
		fi
		die "FILESYSTEM_DISK=s3: set BACKUP_S3_DESTINATION (an s3:// URL or a directory, copied to with aws s3 sync), or BACKUP_S3_REPLICATED=yes if bucket versioning and replication are the backup"
	fi
	aws_setup
	need_cmd flock
	lock files
	src="s3://${AWS_BUCKET}/${FILE_KEY_PREFIX}"
	dst="${BACKUP_S3_DESTINATION%/}/"
	sync_opts=(--only-show-errors)
	[[ ${BACKUP_S3_SYNC_DELETE:-} != yes ]] || sync_opts+=(--delete)
	log "copying ${src} to ${dst} (aws s3 sync ${sync_opts[*]})"
	aws "${AWS_ARGS[@]}" s3 sync "${sync_opts[@]}" "$src" "$dst" || die "aws s3 sync ${src} ${dst} failed"
	log "copied ${src} to ${dst}"
	;;
*) die "FILESYSTEM_DISK must be local or s3, got '${FILESYSTEM_DISK}'" ;;
esac
