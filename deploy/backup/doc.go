// Package backup holds no Go code: this directory is the backup and restore
// scripts of shipmentapp (backup-db.sh, backup-files.sh, backup-config.sh,
// their restore-*.sh, lib.sh), the image that runs them (Dockerfile) and the
// crontab of hosts without Kubernetes. Its test backs up real databases of
// every dialect, a local file store and a configuration directory, destroys
// them, restores them and compares every row and file.
package backup
