#!/usr/bin/env bash
# restore-files.sh [--yes] FILE|latest: restores the file store.
#
# FILESYSTEM_DISK=local: FILE is a files-<UTC>.tar.gz of backup-files.sh. Its
#   checksum is verified, it is extracted beside $APP_DATA_DIR/files, and only
#   once the extraction is complete does the extracted tree replace the store
#   (two renames); the replaced store is deleted, or kept beside it as
#   files.replaced-<UTC> with RESTORE_KEEP_REPLACED=yes.
# FILESYSTEM_DISK=s3: FILE is ignored (give "latest"): the objects of
#   BACKUP_S3_DESTINATION are copied back into AWS_BUCKET with aws s3 sync
#   (objects of the bucket that the copy lacks are kept: the application's
#   sweeper deletes those no file row references). An older version of an
#   object is restored from the bucket's versioning, not by this script.
#
# Restore the database first, then the files: objects without a row are swept
# once older than FILE_SWEEP_GRACE, rows without an object fail to download.
# Nothing happens without --yes or RESTORE_CONFIRM=yes.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0") [--yes] FILE|latest
Restores the file store of FILESYSTEM_DISK from FILE (a backup of
backup-files.sh; 'latest': the newest in \$BACKUP_DIR/files), replacing
\$APP_DATA_DIR/files. Needs --yes or RESTORE_CONFIRM=yes." "$@"
((${#ARGS[@]} == 1)) || die "give one backup file, or latest (see --help)"

default FILESYSTEM_DISK local
case $FILESYSTEM_DISK in
local)
	need_cmd tar gzip sha256sum flock
	file=${ARGS[0]}
	[[ $file != latest ]] || file=$(latest "${BACKUP_DIR%/}/files" files)
	[[ $file == *.tar.gz ]] || die "${file}: not a backup of backup-files.sh (.tar.gz)"
	root=$(files_root)
	root=${root%/}
	parent=$(dirname -- "$root")
	lock files
	verify "$file"
	mkdir -p -- "$parent"
	# Extracted on the store's own filesystem, so the swap is two renames.
	stage=$(mktemp -d "$parent/.files-restore.XXXXXX")
	cleanup_later "$stage"
	tar --extract --gzip --file="$file" --directory="$stage" --no-same-owner --preserve-permissions ||
		die "${file} does not extract; refusing to restore it (the file store was not touched)"
	# The store writes its objects through .tmp/ (internal/storage).
	mkdir -p -- "$stage/.tmp"
	chmod 0700 -- "$stage/.tmp"
	count=$(find "$stage" -path "$stage/.tmp" -prune -o -type f -print | wc -l)
	confirm "the local file store ${root} with the ${count} file(s) of ${file}"
	old=
	if [[ -e $root ]]; then
		old="$root.replaced-$(utc_stamp)"
		mv -- "$root" "$old"
	fi
	if ! mv -- "$stage" "$root"; then
		[[ -z $old ]] || mv -- "$old" "$root"
		die "could not move the restored files into ${root}; the file store was put back"
	fi
	if [[ -n $old ]]; then
		if [[ ${RESTORE_KEEP_REPLACED:-} == yes ]]; then
			log "the replaced file store is kept in ${old}"
		else
			rm -rf -- "$old"
		fi
	fi
	log "restored ${count} file(s) of ${file} into ${root}"
	;;
s3)
	[[ -n ${BACKUP_S3_DESTINATION:-} ]] || die "FILESYSTEM_DISK=s3: BACKUP_S3_DESTINATION (where backup-files.sh copied the objects) is required; versions kept by the bucket's versioning are restored with the S3 tools"
	[[ ${ARGS[0]} == latest ]] || warn "FILESYSTEM_DISK=s3: ${ARGS[0]} ignored, restoring from ${BACKUP_S3_DESTINATION}"
	aws_setup
	need_cmd flock
	lock files
	src="${BACKUP_S3_DESTINATION%/}/"
	dst="s3://${AWS_BUCKET}/${FILE_KEY_PREFIX}"
	confirm "the objects of ${dst} that ${src} also holds"
	aws "${AWS_ARGS[@]}" s3 sync --only-show-errors "$src" "$dst" || die "aws s3 sync ${src} ${dst} failed"
	log "copied ${src} back to ${dst}"
	;;
*) die "FILESYSTEM_DISK must be local or s3, got '${FILESYSTEM_DISK}'" ;;
esac
