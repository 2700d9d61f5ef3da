# Certificates for the TLS and WebSocket tests (sourced after lib.sh):
# a private CA and certificates it signs, made with openssl(1) in
# $T_DIR/pki. Nothing here talks to the network.
#
#   tls_ca                       the CA: $T_DIR/pki/ca.pem (and ca.key)
#   tls_cert NAME SAN [DAYS]     NAME.pem / NAME.key signed by the CA;
#                                SAN like "IP:127.0.0.1,DNS:sip.test";
#                                DAYS < 0: expired that many days ago
#   tls_conf                     [tls] lines for server.pem (certificate,
#                                key, CA) on stdout

TLS_PKI=$T_DIR/pki

tls_ca() {
	mkdir -p "$TLS_PKI"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=Junction Test CA" -keyout "$TLS_PKI/ca.key" -out "$TLS_PKI/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

tls_cert() {
	local name=$1 san=$2 days=${3:-30} ext
	ext=$TLS_PKI/$name.ext
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$TLS_PKI/$name.key" -out "$TLS_PKI/$name.csr" 2>/dev/null
	if [ "$days" -lt 0 ]; then
		# openssl x509 cannot date a certificate in the past; openssl ca can
		mkdir -p "$TLS_PKI/ca.db"
		: >"$TLS_PKI/ca.db/index.txt"
		cat >"$TLS_PKI/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $TLS_PKI/ca.db/index.txt
new_certs_dir = $TLS_PKI/ca.db
serial = $TLS_PKI/ca.db/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
CNF
		echo 1000 >"$TLS_PKI/ca.db/serial"
		openssl ca -batch -config "$TLS_PKI/ca.cnf" -cert "$TLS_PKI/ca.pem" -keyfile "$TLS_PKI/ca.key" \
			-in "$TLS_PKI/$name.csr" -out "$TLS_PKI/$name.pem" -extfile "$ext" -notext \
			-startdate "$(date -u -d "$((1 - days)) days ago" +%y%m%d%H%M%SZ)" \
			-enddate "$(date -u -d "$((-days)) days ago" +%y%m%d%H%M%SZ)" 2>/dev/null
	else
		openssl x509 -req -in "$TLS_PKI/$name.csr" -CA "$TLS_PKI/ca.pem" -CAkey "$TLS_PKI/ca.key" \
			-CAcreateserial -days "$days" -out "$TLS_PKI/$name.pem" -extfile "$ext" 2>/dev/null
	fi
}

tls_conf() {
	cat <<CONF
[tls]
certificate = $TLS_PKI/server.pem
private_key = $TLS_PKI/server.key
ca_file = $TLS_PKI/ca.pem
CONF
}
