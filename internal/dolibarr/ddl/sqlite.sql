-- The demo Dolibarr database of the embedded default: the same tables and
-- columns as ddl/mysql.sql, in SQLite's types.
CREATE TABLE llx_c_country (
  rowid integer NOT NULL PRIMARY KEY,
  code varchar(2) NOT NULL UNIQUE,
  code_iso varchar(3),
  label varchar(50) NOT NULL UNIQUE,
  eec tinyint DEFAULT 0 NOT NULL,
  active tinyint DEFAULT 1 NOT NULL,
  favorite tinyint DEFAULT 0 NOT NULL
);

CREATE TABLE llx_c_shipment_mode (
  rowid integer PRIMARY KEY AUTOINCREMENT,
  entity integer DEFAULT 1 NOT NULL,
  tms timestamp DEFAULT CURRENT_TIMESTAMP,
  code varchar(30) NOT NULL,
  libelle varchar(50) NOT NULL,
  description text,
  tracking varchar(255) NOT NULL,
  active tinyint DEFAULT 0,
  module varchar(32) NULL
);

CREATE TABLE llx_societe (
  rowid integer PRIMARY KEY AUTOINCREMENT,
  nom varchar(128),
  name_alias varchar(128) NULL,
  entity integer DEFAULT 1 NOT NULL,
  ref_ext varchar(255),
  statut tinyint DEFAULT 0,
  parent integer,
  status tinyint DEFAULT 1,
  code_client varchar(24),
  code_fournisseur varchar(24),
  code_compta varchar(24),
  code_compta_fournisseur varchar(24),
  address varchar(255),
  zip varchar(25),
  town varchar(50),
  fk_departement integer DEFAULT 0,
  fk_pays integer DEFAULT 0,
  phone varchar(30),
  phone_mobile varchar(30),
  fax varchar(30),
  url varchar(255),
  email varchar(128),
  siren varchar(128),
  siret varchar(128),
  ape varchar(128),
  idprof4 varchar(128),
  idprof5 varchar(128),
  idprof6 varchar(128),
  tva_intra varchar(20),
  capital double DEFAULT NULL,
  fk_stcomm integer DEFAULT 0 NOT NULL,
  note_private text,
  note_public text,
  client tinyint DEFAULT 0,
  fournisseur tinyint DEFAULT 0,
  fk_shipping_method integer,
  default_lang varchar(6),
  datec datetime,
  tms timestamp DEFAULT CURRENT_TIMESTAMP,
  fk_user_creat integer NULL,
  fk_user_modif integer,
  import_key varchar(14),
  UNIQUE (code_client, entity)
);
CREATE INDEX idx_societe_nom ON llx_societe (nom);
CREATE INDEX idx_societe_fk_pays ON llx_societe (fk_pays);
CREATE INDEX idx_societe_tms ON llx_societe (tms);

CREATE TABLE llx_socpeople (
  rowid integer PRIMARY KEY AUTOINCREMENT,
  datec datetime,
  tms timestamp DEFAULT CURRENT_TIMESTAMP,
  fk_soc integer,
  entity integer DEFAULT 1 NOT NULL,
  ref_ext varchar(255),
  civility varchar(6),
  lastname varchar(50),
  firstname varchar(50),
  address varchar(255),
  zip varchar(25),
  town varchar(255),
  fk_departement integer,
  fk_pays integer DEFAULT 0,
  birthday date,
  poste varchar(80),
  phone varchar(30),
  phone_perso varchar(30),
  phone_mobile varchar(30),
  fax varchar(30),
  email varchar(255),
  priv smallint DEFAULT 0 NOT NULL,
  fk_user_creat integer DEFAULT 0,
  fk_user_modif integer,
  note_private text,
  note_public text,
  default_lang varchar(6),
  statut tinyint DEFAULT 1 NOT NULL,
  import_key varchar(14)
);
CREATE INDEX idx_socpeople_fk_soc ON llx_socpeople (fk_soc);
