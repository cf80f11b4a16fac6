//! The rule set. Each rule names its attack class, the paranoia level from which it runs, its
//! anomaly score, the view of the value it reads and where it looks. Patterns are written for
//! lowercase, decoded text (see `normalize`), in the `regex` crate's syntax (no look-around), and
//! run as one lazy DFA per view (`regex-automata`), so every rule runs in linear time whatever
//! the input.
//!
//! Rule ids follow the OWASP CRS numbering of the class they cover (942xxx SQL injection,
//! 941xxx XSS, 921xxx CR/LF, …) so results can be compared class by class; the patterns are our
//! own. Classes CRS has no rules for use the free range 936xxx: 9361xx LDAP, 9362xx IMAP/SMTP,
//! 9363xx server-side includes; template injection is 9342xx beside CRS's generic 934xxx.

/// Attack classes, as the CRS regression corpus names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Sqli,
    Xss,
    Lfi,
    Rfi,
    Rce,
    Php,
    Java,
    Generic,
    Protocol,
    Scanner,
    Ssrf,
    /// CR/LF injection: response splitting and header injection.
    Crlf,
    Ldap,
    /// IMAP and SMTP command injection, mail header injection.
    Mail,
    /// Server-side includes.
    Ssi,
    /// Server-side template injection (Jinja2, Twig, Freemarker, Velocity, Thymeleaf, ERB, …).
    Template,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Sqli => "sqli",
            Class::Xss => "xss",
            Class::Lfi => "lfi",
            Class::Rfi => "rfi",
            Class::Rce => "rce",
            Class::Php => "php",
            Class::Java => "java",
            Class::Generic => "generic",
            Class::Protocol => "protocol",
            Class::Scanner => "scanner",
            Class::Ssrf => "ssrf",
            Class::Crlf => "crlf",
            Class::Ldap => "ldap",
            Class::Mail => "mail",
            Class::Ssi => "ssi",
            Class::Template => "template",
        }
    }
}

/// Which normalised form of a value a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Decoded (percent, entities, escapes), lowercase.
    Decoded,
    /// Decoded, comments removed, whitespace collapsed.
    Compact,
    /// The shell's view: quotes, backslashes and carets removed.
    Shell,
    /// A file path's view: decoded, every separator (`\\` and the look-alikes) as `/`, runs
    /// of `/` and `/./` collapsed.
    Path,
}

/// Where a rule looks (a bit set).
pub type Scope = u8;
pub const ARGS: Scope = 1;
pub const PATH: Scope = 2;
pub const COOKIES: Scope = 4;
pub const HEADERS: Scope = 8;
pub const FILES: Scope = 16;
pub const ALL: Scope = ARGS | PATH | COOKIES | HEADERS | FILES;
/// Secret fields (passwords). A password may hold any character, and a user whose generated
/// password trips a rule could not sign in: only rules that need the syntax of an injection
/// around its keywords (which random and generated passwords do not build) read them, and no
/// other rule does (`ALL` leaves them out).
pub const SECRETS: Scope = 32;
const INPUT: Scope = ARGS | COOKIES | HEADERS;

pub const CRITICAL: u8 = 5;
pub const ERROR: u8 = 4;
pub const WARNING: u8 = 3;

pub struct RuleDef {
    pub id: u32,
    pub class: Class,
    pub paranoia: u8,
    pub score: u8,
    pub view: View,
    pub scope: Scope,
    pub pattern: &'static str,
}

const fn rule(
    id: u32,
    class: Class,
    paranoia: u8,
    score: u8,
    view: View,
    scope: Scope,
    pattern: &'static str,
) -> RuleDef {
    RuleDef {
        id,
        class,
        paranoia,
        score,
        view,
        scope,
        pattern,
    }
}

use Class::*;
use View::*;

/// Where a command starts after a separator: `;`, `&`, `|`, a line break, `$(` or `<<<`, then an
/// opening bracket, variables set before it and a path to it, all optional.
macro_rules! command_position {
    () => {
        r"(?:[;&|\n]|\$\(|<<<)\s*[({]?\s*(?:\$\w+\s*)*(?:[\w.-]*/)?"
    };
}

/// A name that starts a word, where a byte of a non-ASCII letter counts as a letter (`\b` on bytes
/// would split "Haßelt (1599)" into "Haß" and `elt(`).
macro_rules! word_start {
    () => {
        r"(?:^|[^\w\x80-\xff])"
    };
}

/// Unix commands an injected command line typically starts with.
macro_rules! unix_commands {
    () => {
        "(?:7z|7za|7zr|ab|aptitude|getent|lastlogin|lastb|perf|zstd|zstdcat|zcat|zless|zmore|zgrep|xzcat|lzcat|who|users|kill|killall|pkill|chpasswd|chsh|adduser|deluser|userdel|groupadd|mkfifo|mknod|setsid|renice|iptables|nft|ufw|modprobe|insmod|rmmod|lsmod|kubectl|helm|terraform|vault|consul|podman|crictl|runc|gcloud|gsutil|doctl|npm|npx|pnpm|deno|javac|jshell|mvn|gradle|erl|rscript|octave|julia|sqlcmd|mongo|mongosh|redis-cli|etcdctl|agetty|alias|ansible(?:-[a-z]+)?|apt|apt-get|ar|aria2c|arj|arp|as|ash|at|aws|awk|base32|base64|basenc|bash|batch|bc|bridge|bsdcat|bsdtar|bundle|busctl|busybox|bzcat|bzip2|c89|c99|cancel|cat|cc|certbot|chattr|chdir|chef(?:-[a-z]+)?|chgrp|chmod|chown|chroot|cksum|clang|cmp|column|comm|composer|cowsay|cp|cpan|cpio|cpulimit|crash|crontab|csh|cscli|csplit|csvtool|cupsfilter|curl|cut|dash|date|dd|debugfs|dialog|diff|dig|dir|dmesg|dmidecode|dmsetup|dnf|docker|dos2unix|dosbox|dpkg|du|easy_install|ed|egrep|emacs|env|eqn|ex|exiftool|expand|expect|expr|facter|fgrep|file|find|finger|flock|fmt|fold|ftp|gawk|gcc|gdb|gem|genisoimage|ghc|ghci|gimp|git|grep|gtester|gunzip|gzip|hd|head|hexdump|highlight|history|host|hostid|hostname|hping3|iconv|id|ifconfig|install|ionice|ip|ipconfig|irb|jjs|join|journalctl|jq|jrunscript|ksh|ksshell|last|lastlog|less|lftp|links|ln|loginctl|logsave|look|lp|ls|lsof|lua|lwp-download|lwp-request|lynx|make|man|mawk|more|mosquitto|mount|msgfilter|mtr|mv|mysql|mysqldump|nano|nawk|nc|ncat|neofetch|net|netcat|netstat|nice|nl|nmap|node|nohup|nproc|nroff|nsenter|nslookup|od|openssl|openvpn|passwd|paste|pdb|perl|pexec|pg|php|pic|pico|pidof|pigz|ping|pip|pkexec|pkg|printenv|printf|ps|psql|ptx|puppet|pwd|python[0-9.]*|rake|rbash|readelf|red|rev|rlogin|rlwrap|rm|rmdir|rmt(?:-[a-z]+)?|route|rpm|rsync|ruby|run-mailcap|run-parts|rview|rvim|scp|screen|script|sed|service|setarch|sftp|sh|shuf|smbclient|socat|sort|split|sqlite3|ss|ssh|ssh-keygen|start-stop-daemon|stdbuf|strace|strings|su|sudo|sysctl|systemctl|tac|tail|tar|taskset|tbl|tclsh|tcpdump|tee|telnet|tftp|time|timedatectl|timeout|tmux|top|htop|atop|iotop|btop|troff|tshark|ul|uname|unexpand|uniq|unlink|unshare|unzip|update-alternatives|useradd|usermod|uudecode|uuencode|valgrind|vi|view|vigr|vim|vimdiff|vipw|visudo|w3m|watch|wc|wget|whiptail|whoami|whois|xargs|xmodmap|xxd|xz|yarn|yelp|yum|zip|zsh|zsoelim|zypper)"
    };
}

/// Commands whose names are no ordinary words, so a value that starts with one is a command line.
macro_rules! distinct_commands {
    () => {
        "(?:ansible(?:-[a-z]+)?|chef(?:-[a-z]+)?|cscli|sysinfo|systeminfo|visudo|vipw|vigr|zstdcat|zstd|xzcat|lzcat|bzcat|zcat|xxd|hexdump|ncat|netcat|socat|nmap|masscan|curl|wget|aria2c|bash|zsh|ksh|csh|tcsh|busybox|python[0-9.]*|perl[0-9.]*|php[0-9.]*|nodejs|gcc|g\\+\\+|clang|gdb|strace|ltrace|sudo|doas|pkexec|chmod|chown|chattr|setfacl|useradd|usermod|userdel|chpasswd|crontab|systemctl|journalctl|iptables|nft|ifconfig|ipconfig|whoami|uname|hostname|ls|tac|strings|base64|openssl|ssh|scp|sftp|rsync|telnet|tftp|nc|rmdir|mkfs|unzip|gunzip|7z|docker|kubectl|podman|lastlog|lastlogin|getent|printenv|crontab|tmux|awk|gawk|grep|egrep|fgrep|xargs|mkfifo|mknod|pkill|killall)"
    };
}

/// PHP functions an injected call typically uses.
macro_rules! php_functions {
    () => {
        "(?:abs|addslashes|array_[a-z_]+|assert|bin2hex|chop|count|crypt|date|dirname|end|explode|implode|in_array|intval|is_[a-z]+|join|key|list|ltrim|max|md5|min|next|ord|pack|unpack|print|printf|rand|range|reset|rtrim|sha1|sizeof|sort|sprintf|strip_tags|str_[a-z_]+|strlen|strpos|strrev|strtolower|strtoupper|substr|trim|ucfirst|urldecode|urlencode|base64_decode|bzdecompress|call_user_func(?:_array)?|chr|create_function|curl_exec|curl_init|escapeshellcmd|eval|exec|file_exists|file_get_contents|file_put_contents|file|fopen|fpassthru|fputs|fread|fsockopen|fwrite|get_defined_functions|get_defined_vars|gzdecode|gzinflate|gzuncompress|hex2bin|highlight_file|include|include_once|ini_set|is_writable|mail|move_uploaded_file|ob_start|parse_str|passthru|pcntl_exec|pfsockopen|phpinfo|popen|posix_[a-z]+|preg_replace|print_r|proc_open|putenv|readfile|require|require_once|serialize|shell_exec|show_source|str_rot13|stream_get_contents|system|unlink|unserialize|var_dump|zlib_decode)"
    };
}

pub static RULES: &[RuleDef] = &[
    // ---- SQL injection (942xxx) -----------------------------------------------------------
    // Tautologies and boolean injection after a closing quote or number.
    rule(
        942100,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:(?:^|[\s'"`)(;])(?:or|and|xor|\|\||&&)\s*(?:not\s+)?(?:\(?\s*['"`]?-?\d+['"`]?|['"`][^'"`]*['"`]|['"`]?[a-z_]\w*['"`]?\s*(?:=|<>|!=)\s*['"`]?[a-z_]\w*['"`]?(?:\s|$|--|#|\)))\s*(?:=|<=?|>=?|<>|!=|\blike\b|\bis\b|$)|['"`)\d]\s*(?:or|and|xor|\|\||&&)\s+(?:not\s+)?(?:true\b|false\b|null\b|\d+\s*$|sleep\s*\(|benchmark\s*\(|\(?\s*select\b|['"`]))"#,
    ),
    rule(
        942101,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // A string or bracket closed, then a comment, or a semicolon that ends the value or
        // stacks a statement (`'; drop table`, `'; return true; var x='`, `();echo 1;`);
        // prose closes brackets before semicolons too ("Meeting (Raum 3); bring laptop").
        r#"['"`)]\s*(?:--|#|;\s*(?:['"`]?\s*$|--|#|/\*|@@|(?:select|insert|update|delete|drop|create|alter|exec|execute|declare|shutdown|waitfor|truncate|union|grant|revoke|merge|handler|rename|sleep|benchmark|pg_sleep|dbms_\w+|xp_\w+|sp_\w+)\b|set\s+@|if\s*\(|return\s+(?:true|false|\d|this|db)\b|(?:var|let|const)\s+\w+\s*=|(?:db|this)\.\w|echo\s+[\d'"$]|print\s*['"(]|(?:system|exec|passthru|shell_exec|eval|assert|phpinfo)\s*\())|['"`]\s*\+\s*\w+\s*\(|\bunion\b(?:\s+(?:all|distinct))?\s*\(?\s*select\b"#,
    ),
    rule(
        942140,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:information_schema|msdb|northwind|schema_name|pg_toast|tempdb\.\.|pg_catalog|pg_shadow|pg_user|mysql\.(?:user|db)|sysobjects|syscolumns|sysdatabases|msysaccessobjects|msysqueries|msysobjects|sqlite_master|sqlite_temp_master|all_tables|dba_users|user_tables|sys\.tables|master\.\.sysdatabases)\b",
    ),
    rule(
        942151,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // A function's name starts a word (`word_start!`: "Haßelt (1599)" is no `elt(`).
        concat!(
            word_start!(),
            r"(?:extractvalue|updatexml|xmltype|json_build_object|json_extract|json_keys|json_object|jsonb_build_object|row_to_json|to_jsonb?|array_to_string|string_agg|group_concat|concat_ws|load_file|benchmark|pg_sleep|sleep|current_user|session_user|system_user|schema_name|db_name|user_name|is_srvrolemember|has_dbaccess|utl_inaddr\.get_host_address|dbms_pipe\.receive_message|ctxsys\.drithsx\.sn|sys_context|nchar|ascii|substring|substr|unhex|md5|sha1|sha2|conv|coalesce|ifnull|nullif|isnull|instr|locate|randomblob|make_set|elt|export_set|find_in_set|compress|uncompress|rtrim|ltrim|lpad|rpad|strcmp|sysdate|curdate|curtime|now|name_const|char_length|octet_length|bit_length|crc32|soundex|quote|hex|oct|ord|mid|lcase|ucase|aes_(?:de|en)crypt|des_(?:de|en)crypt|from_base64|to_base64|inet_aton|inet_ntoa|last_insert_id|row_count|found_rows|connection_id|get_lock|release_lock|uuid|weight_string|substring_index|timestampdiff|date_format|str_to_date|datediff|from_unixtime|unix_timestamp|pg_read_file|pg_ls_dir|lo_import|lo_export|current_database|current_schema|dbms_\w+|sys\.\w+|xp_\w+|sp_\w+)\s*\(|",
            word_start!(),
            r"(?:cos|cot|sin|tan|acos|asin|atan2?|pow|power|sqrt)\s*\((?:\s*$|\s*[^\d\s)])|",
            word_start!(),
            r"(?:database|version|user|schema|char|cast|convert|length|position|decode|encode|insert|trim|rand|md5|if|iif|field|extract|interval|repeat|replace|reverse|left|right|round|floor|ceil|ceiling|abs|sign|exp|log|ln|mod|greatest|least|concat|count|avg|sum|min|max|collation|charset|default|values)\(",
        ),
    ),
    rule(
        942160,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:sleep\s*\(\s*[\d.]+\s*\)|benchmark\s*\(\s*\d+\s*,)",
    ),
    rule(
        942170,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\bselect\s+(?:benchmark|sleep|if\s*\(|pg_sleep)",
    ),
    rule(
        942190,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:exec(?:ute)?\s*(?:\(|master\.|xp_|sp_|@)|xp_cmdshell|xp_regread|xp_dirtree|sp_oacreate|sp_executesql|sp_password|openrowset|opendatasource|openquery|utl_http\.request|dbms_java|into\s+(?:out|dump)file|load\s+data\s+infile)",
    ),
    rule(
        942220,
        Sqli,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"^(?:-?(?:2147483648|2147483647|4294967295|4294967296|9223372036854775807|9223372036854775808|18446744073709551615|18446744073709551616)|0x[0-9a-f]{8}|2\.2250738585072011e-308|1e309)$",
    ),
    rule(
        942230,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:(?:^|[\s()])case\s+when\b|\)\s*like\s*\(|\bselect\b.*?\bhaving\b|\bif\s*\(\s*[\w.()]+\s*[=<>!~]|\bif\s*\(\s*(?:ascii|substr|length|mid)\s*\()",
    ),
    rule(
        942240,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:\balter\s+\w+.*?\bchar(?:acter)?\s+set\b|['";]\s*waitfor\s+(?:time|delay)\b|\bwaitfor\s+delay\s+['"]\d)"#,
    ),
    rule(
        942250,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:\bmerge\b.*?\busing\s*\(|\bexecute\s+immediate\s+['"]|\bmatch\s*\(.*?\)\s*against\s*\()"#,
    ),
    rule(
        942270,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\bunion\b.*?\bselect\b.*?\bfrom\b",
    ),
    rule(
        942280,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:\bselect\s+pg_sleep|\bwaitfor\s+delay\b|;\s*shutdown\b|\(\s*select\s+\w+\s*\(|\bselect\s*\*\s*from\s*\()",
    ),
    rule(
        942290,
        Sqli,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"(?:\[\s*\$(?:ne|eq|lte?|gte?|n?in|mod|all|size|exists|type|slice|x?or|nor|div|like|between|and|not|regex|where|elemmatch|expr|text|jsonschema|function|accumulator)\s*\]|\$(?:where|regex|ne|gt|lt|nin)\x22?\s*:|^\$(?:ne|eq|lte?|gte?|n?in|mod|all|size|exists|type|slice|x?or|nor|div|not|regex|where|elemmatch|expr|text|jsonschema|function|accumulator|lookup|merge|out)$)",
    ),
    rule(
        942320,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Stored procedures and functions; PostgreSQL casts that turn a function's or column's
        // value into an error message or a number (`unistr(password)::int`, `password::int`; a
        // bare word only before the integer types, so `Math::BigInt` in a question stays allowed).
        r"(?:\bprocedure\s+analyse\s*\(|\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure|trigger)\b.*?\b(?:returns|begin|as)\b|\bdeclare\s+[@#]\w+|\bexec\s*\(\s*@|\bdeclare\b.*?\bcursor\b|\)\s*::\s*(?:int[248]?|integer|bigint|smallint|numeric|decimal|real|double\s+precision|float[48]?|bool(?:ean)?|jsonb?|regclass|regproc|oid|bytea|text|varchar|char)\b|\b\w+\s*::\s*(?:int|integer|regclass)\b)",
    ),
    rule(
        942350,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:;\s*(?:insert\s+into|delete\s+from|update\s+\w+\s+set|drop\s+(?:table|database|user)|create\s+(?:table|user|database)|alter\s+(?:table|user)|truncate\s+table|grant\s+\w+|rename\s+table)\b|\binsert\s+into\s+[\w.`\x22]+\s*\(.*?\)\s*values\s*\(|\bcreate\s+function\s+\w+\s+returns)",
    ),
    rule(
        942360,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // An alias only where a value breaks out of a string or number first (`' as x from`,
        // `1234 AS "foobar" FROM`): prose says "works as admin from home". A server variable
        // selected (`select @@version`), a database backed up to a share (MSSQL).
        r#"(?:^[\W\d]*['"`)]\s*as\s+["'`]?[\w-]+["'`]?\s+from\b|^[\W\d]+\s*as\s+["'`][\w-]+["'`]\s+from\b|\bselect\s+(?:top\s+\d+\s+)?(?:[\w.*`"]+\s*,\s*)*[\w.*`"]+\s+from\s+[\w.`"]+|\bunion\s+(?:all\s+)?select\b|\bconcat\s*\(|\bselect\s+(?:null|\d+)\s*,|['"`]\s*(?:regexp|rlike|sounds\s+like)\b|\bas\s*["'`]?\s*from\b|\bselect\s+@@\w+|\bbackup\s+(?:database|log)\s+\S+\s+to\s+disk)"#,
    ),
    rule(
        942500,
        Sqli,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"/\*!\d*\s*\w",
    ),
    rule(
        942540,
        Sqli,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r#"^[^'"`]*['"`]\s*[;)]\s*(?:--.*|#.*)?$"#,
    ),
    rule(
        942550,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:'[^']*'\s*::\s*jsonb?\b|::\s*jsonb?\s*(?:@>|<@|\?\||\?&|->|#>)|\bjson(?:b)?_(?:each|extract_path|array_elements|extract)\w*\s*\(|'[\[{][^']*'\s*(?:->>?|#>>?|@>|<@|\?[|&]?|-\s*\d|>|<|=)|(?:@>|<@)\s*'[\[{])",
    ),
    rule(
        942560,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\d\.e[\s(),+-]|\d\.e$",
    ),
    rule(
        942191,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"['"`][\w\s]*['"`]\s*(?:!=|<>|=)\s*['"`][\w\s]*(?:['"`]|$)"#,
    ),
    rule(
        942180,
        Sqli,
        2,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:['"`]\s*(?:=|<>|!=|<|>)\s*['"`]|\b(?:or|and)\b\s+\d+\s*[=<>]\s*\d+)"#,
    ),
    rule(
        942200,
        Sqli,
        2,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:select|union|insert|update|delete|drop)\b.*?\b(?:from|into|where|table|select)\b",
    ),
    // ---- XSS (941xxx) --------------------------------------------------------------------
    rule(
        941100,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*/?\s*(?:script|iframe|frame|frameset|object|embed|applet|svg|math|img|video|audio|source|body|html|input|button|textarea|select|details|marquee|isindex|xmp|plaintext|template|style|link|base|meta|form|a|div|span|p|x|xss|image|animate|set|use|keygen|bgsound|layer|ilayer|title)\b[^>]*(?:\bon[a-z]{3,25}\s*=|\b(?:src|href|data|action|formaction|xlink:href|background)\s*=\s*['\x22]?\s*(?:javascript|vbscript|data|livescript)\s*:)",
    ),
    rule(
        941110,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*/?\s*script\b|\bscript\s*>",
    ),
    rule(
        941120,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:^|[\s'\x22/;`<>=,(])on[a-z]{3,50}\s*=",
    ),
    rule(
        941130,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:<!entity\b|\bxlink:href\s*=|\bxmlns(?::\w+)?\s*=|\bformaction\s*=|<\s*\w+[^>]*\b(?:style|dynsrc|lowsrc|datasrc|seekSegmentTime)\s*=|!\[cdata\[)",
    ),
    rule(
        941140,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:url\s*\(\s*['\x22]?\s*(?:javascript|vbscript|data\s*:)|\bexpression\s*\(|-moz-binding|\bbehavior\s*:\s*url)",
    ),
    rule(
        941160,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:<\s*(?:script|iframe|frame|object|embed|applet|svg|math|meta|link|base|style|form|isindex|xmp|plaintext|template|marquee|bgsound|dialog)\b|<\s*[a-z]\s*:\s*[a-z]|<(?:\s*[a-z]\s){3,}|\bdata\s*:\s*text/html|<\s*xml\b[^>]*\b(?:src|id)\s*=|<!\[cdata\[\s*<\s*[a-z])",
    ),
    rule(
        941170,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:\bdata\s*:[^,]*,.*<|(?:^|[\s'\x22=(`])(?:javascript|vbscript|livescript|mocha)\s*:\s*[^\s]*[(\[`'\x22=.;/\\{+%&]|[='\x22(`]\s*(?:javascript|vbscript|livescript|mocha)\s*:)",
    ),
    rule(
        941180,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // DOM properties in code (followed by an operator, a call or the end), not in prose
        // ("the document.cookie banner", "window.open does not work").
        r"(?:document\s*\.\s*(?:cookie|write|domain|location)|window\s*\.\s*(?:location|open|name))\s*(?:[=;)(+,.\[\]'\x22`]|$)|\.parentnode|\.innerhtml|\.outerhtml|\bsrcdoc\s*=|\btostring\s*\(",
    ),
    rule(
        941190,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:<\s*style\b.*?@import|@import\s*['\x22u(]|<\s*style\b[^>]*>.*?(?:expression|url)\s*\()",
    ),
    rule(
        941200,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*(?:v\s*:\s*\w+|:?\s*vmlframe)\b",
    ),
    rule(
        941210,
        Xss,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"j[\s\x00-\x1f]*a[\s\x00-\x1f]*v[\s\x00-\x1f]*a[\s\x00-\x1f]*s[\s\x00-\x1f]*c[\s\x00-\x1f]*r[\s\x00-\x1f]*i[\s\x00-\x1f]*p[\s\x00-\x1f]*t[\s\x00-\x1f]*:[\s\x00-\x1f]*[^\s\x00-\x1f]*[(\[`'\x22=.;/\\{+]",
    ),
    rule(
        941220,
        Xss,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"v[\s\x00-\x1f]*b[\s\x00-\x1f]*s[\s\x00-\x1f]*c[\s\x00-\x1f]*r[\s\x00-\x1f]*i[\s\x00-\x1f]*p[\s\x00-\x1f]*t[\s\x00-\x1f]*:",
    ),
    rule(
        941230,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*(?:embed|bgsound|layer|ilayer)\b",
    ),
    rule(
        941240,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*\??\s*import|\bimplementation\s*=",
    ),
    rule(
        941250,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*meta\b[^>]*(?:http-equiv|charset)",
    ),
    rule(
        941260,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:charset\s*=\s*['\x22]?\s*utf-?7|\+ad[w4]-|\badw-\s*script)",
    ),
    rule(
        941270,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*link\b[^>]*\bhref\b",
    ),
    rule(
        941280,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*base\b[^>]*\bhref\b",
    ),
    rule(
        941290,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*applet\b",
    ),
    rule(
        941300,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*object\b",
    ),
    rule(
        941310,
        Xss,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"\xbc\s*/?\s*[a-z]+[^\xbe]*\xbe",
    ),
    rule(
        941360,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:(?:!\s*\[\s*\]|\[\s*\]\s*\[|!\s*!\s*\[\s*\]|\(\s*!\s*\[\s*\]).*(?:!\s*\[\s*\]|\[\s*\]\s*\[)|[+!]\s*!\s*!?\s*\[\s*\])",
    ),
    rule(
        941370,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:\b(?:document|window|self|top|parent|frames|globalthis|this)\b\s*\)?\s*\[\s*['"`](?:cookie|location|domain|eval|alert|write)|\(\s*document\s*\)\s*\.|\bdocument\s*\.\s*(?:cookie|write(?:ln)?|domain|location|body|forms|images|links|scripts|createelement|getelementby\w+|queryselector(?:all)?|open|execcommand|referrer|url|documenturi|head|title|all|defaultview|implementation)\s*(?:[=;)(+,.\[\]'"`]|$))"#,
    ),
    rule(
        941390,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:eval|settimeout|setinterval|setimmediate|execscript|alert|prompt|confirm|atob|btoa|fromcharcode|constructor)\s*(?:\(|`)|\bnew\s+function\s*\(",
    ),
    rule(
        941400,
        Xss,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:\.\s*(?:call|apply|bind)\s*`|\[\s*\]\s*\.\s*(?:sort|map|filter|reduce|constructor|concat)\b|\$\{\s*(?:alert|eval|prompt|confirm)\b)",
    ),
    rule(
        941320,
        Xss,
        2,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"<\s*[a-z]+[\s/][^>]*=|<\s*/?\s*[a-z]+\s*>",
    ),
    // ---- Local file inclusion and path traversal (930xxx) --------------------------------
    rule(
        930100,
        Lfi,
        1,
        CRITICAL,
        Decoded,
        ALL,
        r"(?:(?:0x2e|\.)(?:0x2e|\.)(?:0x2f|0x5c|/|\\)|(?:0x2f|0x5c)(?:0x2e|\.)|\.\.\.+[/\\]|\.\.;/|\.\.\\)",
    ),
    rule(
        930110,
        Lfi,
        1,
        CRITICAL,
        Decoded,
        ARGS | COOKIES | HEADERS | FILES,
        r"(?:^|[/\\])\.\.(?:[/\\]|$)",
    ),
    rule(
        930120,
        Lfi,
        1,
        CRITICAL,
        Decoded,
        ARGS | COOKIES | HEADERS | FILES | PATH,
        // OS files: anything under /etc/ when the value is that path (or it follows `=`, `:`,
        // a quote or a bracket; in prose, "liegt unter /etc/ssl" passes), the files attackers
        // read wherever they are named, and logs, shell profiles and keys by name.
        r"(?:(?:^\s*|['\x22=:(])/etc/[\w.-]|/etc/(?:passwd|shadow|group|hosts|issue|motd|subuid|subgid|sudoers|crontab|master\.passwd|security/|ssh/|mysql/|apache2?/|nginx/|httpd/|php\d?/|os-release|resolv\.conf|environment|profile|bashrc|fstab|mtab|php\.d/|default/|[\w.-]+\.(?:conf|cnf|cfg|passwd))|/boot/grub/|/proc/(?:self|\d+)/(?:environ|cmdline|maps|fd|status|mounts|cwd|exe)|/sys/(?:class|kernel|devices|block|bus|fs|firmware|power|module)|(?:^|[/\\])(?:boot|win|system|php)\.ini\b|windows[/\\](?:system32|win\.ini|system\.ini)|(?:^|[/\\])(?:access|error)[._]log\b|(?:^|[/\\])\.(?:htaccess|htpasswd|bashrc|bash_profile|bash_login|bash_logout|zshrc|cshrc|tcshrc|kshrc|bash_history|zsh_history|history|mysql_history|psql_history|viminfo|netrc|pgpass|npmrc|pypirc|dockercfg|docker/|kube/|aws/|ssh/|gnupg/|git-credentials|gitconfig|env\b)|/\.docker/secrets|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|\bweb\.config\b|\bwp-config\.php\b|\blocalsettings\.php\b|\.(?:sql|sqlite|db|bak|old|swp|backup|dump)(?:\.(?:zip|gz|tar|tgz|bz2|7z|rar))?$|^>\s*/tmp/)",
    ),
    rule(
        930130,
        Lfi,
        1,
        CRITICAL,
        Decoded,
        PATH,
        r"(?:/\.(?:git|svn|hg|bzr|env|ds_store|idea|vscode|aiignore|cursorignore|dockerignore|npmrc|travis\.yml|gitlab-ci\.yml|well-known/security\.txt\.bak)\b|/@fs/|/wp-content/(?:debug|error|errors)\.log|\.(?:log|sql|bak|old|swp|env|ini|conf|config|cfg|key|pem|p12|pfx|jks|kdbx)(?:\.(?:zip|gz|tar|tgz|bz2|7z|rar))?$|/sys/class\b)",
    ),
    rule(
        930140,
        Lfi,
        1,
        CRITICAL,
        Decoded,
        PATH,
        r"/\.(?:claude|cursor|continue|aider|roo|cline|kiro|rovodev|codex|opencode|a0proj|plandex|fabric|windsurf|copilot|gemini|amazonq|augment|tabnine|sourcegraph|zed|junie|goose|trae|qodo|codeium|mcp|anthropic|openai)(?:/|$)",
    ),
    // ---- Remote file inclusion (931xxx) --------------------------------------------------
    rule(
        931100,
        Rfi,
        1,
        CRITICAL,
        Decoded,
        ARGS,
        r"^\s*(?:file|ftps?|https?|gopher|dict|ldap|tftp|php|jar|netdoc)\s*:\s*//\s*(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[0-9a-f:.]+\]|[0-9a-f]{0,4}:[0-9a-f:.]+)",
    ),
    rule(
        931110,
        Rfi,
        1,
        CRITICAL,
        Decoded,
        ARGS,
        r"(?:\binclude\s*\(\s*['\x22]?|\b(?:mosconfig_absolute_path|_conf\[path\]|_server\[document_root\]|gallery_basedir|path\[docroot\]|appserv_root|config\[root_dir\])\s*=\s*)(?:file|ftps?|https?)://",
    ),
    rule(
        931120,
        Rfi,
        1,
        CRITICAL,
        Decoded,
        ARGS,
        r"^\s*(?:file|ftps?|https?)\s*(?::\s*//.*)?\?+\s*$",
    ),
    // ---- Remote command execution (932xxx) -----------------------------------------------
    rule(
        932120,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"\b(?:invoke-(?:webrequest|expression|command|item|restmethod|wmimethod|shellcode|mimikatz)|iex\s*\(|iwr\s|new-object\s+(?:net\.webclient|system\.net)|downloadstring|downloadfile|start-process|set-executionpolicy|get-wmiobject|gwmi\s|add-mppreference|-encodedcommand|-enc\s+[a-z0-9+/=]{8,}|\[system\.convert\]::|frombase64string|powershell(?:\.exe)?\s+-)",
    ),
    rule(
        932125,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:^|[;&|`\n(]|\$\()\s*(?:iwmi|iwr|irm|iex|icm|saps|sajb|gwmi|wmic|gci|gc|sc|ni|ri|rm|cpi|mi|si|sl|nal|sal|ipmo|ipal|ise)\s+-",
    ),
    rule(
        932130,
        Rce,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        // Command substitution and expansion. A backtick span glued to a word counts when its
        // content starts at once (`x`id``), not across two Markdown code spans (`old` as `new`).
        r"(?:\$\(\s*[^)\s]|\$\{\s*(?:[0-9#@*!?$:`-]|ifs\b|(?:applicationscope|sessionscope|requestscope|pagescope|initparam|pagecontext|facescontext|param|header|cookie)\b|[a-z_]\w*\s*(?:[:#%/^,@.($]|\[))|\$\{\w+\}(?:\w|\s*[;&|/<>`])|^\s*\$\{\w+\}\s*$|<\(\s*\w|>\(\s*\w|\w`[^`\s][^`]{0,79}`|(?:^|=)\s*`[^`]{1,80}`\s*(?:$|[;&|<>#])|`[^`]{1,80}`\s*[;&|<>]|/(?:\w*\[[^\]]{1,6}\]\w*|\w*\?\w*)/\w*|/[a-z]*\[[^\]]{1,6}\][a-z]*\b|/(?:etc|bin|usr|dev|tmp|var|proc)/[a-z]*[\[?*][a-z\-\]]*)",
    ),
    rule(
        932140,
        Rce,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"(?:\bfor(?:\s*/[dflr](?:\s+[^\s%/][^\s%]*)?)*\s+(?:\x22[^\x22]*\x22\s+)?%+[^\s]+\s+in\s*\(|\bif(?:\s*/i)?(?:\s+not)?\s+(?:exist\b|defined\b|errorlevel\b|cmdextversion\b|\S+\s*==\s*\S|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S))",
    ),
    rule(
        932160,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:(?:^|[\s;|&`(<>])(?:/(?:usr/)?(?:local/)?(?:s?bin)/[a-z0-9_.+-]+|\$\{?shell\}?)\b|\bbin/(?:ansible|chef|visudo|bash|sh|zsh|ksh|csh|dash|python[0-9.]*|perl|ruby|php|nc|netcat|ncat|socat|curl|wget|busybox)\b|\b(?:cat|more|less|head|tail|nl|tac|strings|od|xxd|base64)\s+[\w/.-]*/etc/\w+|/dev/(?:tcp|udp)/)",
    ),
    rule(932170, Rce, 1, CRITICAL, Decoded, ALL, r"\(\s*\)\s*\{"),
    rule(
        932175,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:^|[\s;|&`(])(?:alias\s+(?:[+-][\w+-]*\s+)*[\w'\x22-]+=|unalias\s+[\w-]+)",
    ),
    rule(
        932180,
        Rce,
        1,
        CRITICAL,
        Decoded,
        FILES,
        r"(?:(?:^|[/\\])(?:\.htaccess|\.htpasswd|\.htdigest|web\.config|settings(?:\.local)?\.php|default\.settings\.php|config\.php|wp-config[\w.-]*|configuration\.php|localsettings\.php|\.user\.ini|php\.ini|\.env|\.bashrc|\.profile|\.boto|\.s3cfg|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.dockercfg|authorized_keys|crontab|(?:config|config_dev|config_prod|config_test|parameters|routing|security|services)\.ya?ml|local\.xml)\s*$)",
    ),
    rule(
        932230,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        concat!(
            // A command after a separator or a wrapper (`time`, `nohup`, …); never a bare word.
            // After a separator, a command whose name is no ordinary word counts at once; one
            // that is also a word (`man`, `top`, `more`, `find`, `make`, `sort`, `date`) only
            // with what a command line gives it — an option (`-la`, BSD's `aux`), a path or file
            // name (`c:\`, `passwd`), a variable, a quote, `@host`, a comment, another operator,
            // or nothing — since prose puts words after a semicolon or a line break too
            // ("…; man gönnt sie sich", "…; more info soon").
            "(?:",
            command_position!(),
            distinct_commands!(),
            r"(?:[\s;&|`<>)]|$)|",
            command_position!(),
            unix_commands!(),
            r"(?:\s+(?:[-/~$.'\x22@#\\]|[\w-]*[./]\w|[a-z]:|(?:aux|axu|ax|ef|elf|passwd|shadow|sudoers|htpasswd|id_rsa|id_ed25519|authorized_keys)\b)|\s*[;&|`<>)]|\s*$)|\b(?:time|nohup|strace|ltrace|timeout|nice|env|exec|command|builtin|sudo|xargs|watch|stdbuf|busybox|trap)\s+(?:[\w.-]*/)?",
            unix_commands!(),
            r"(?:\s+[-/~$]|\s*[;&|`<>)]|\s*$))"
        ),
    ),
    rule(
        932235,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        concat!(
            // A value that starts with a command and its option or path argument.
            r"^\s*(?:[\w.-]*/)?",
            unix_commands!(),
            r"\s+(?:-{1,2}[\w-]+|[/~$][\w/.-]*)"
        ),
    ),
    rule(
        932241,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        // A command hidden in a variable and then run from it: `CMD=$'id';$CMD`,
        // `;c="whoami"&&$c` (the shell view has dropped the quotes).
        r"(?:^|[\s;&|(`])[a-z_]\w*=\$?[\w./-]+\s*(?:;|&&?|\|\|?)\s*\$\{?[a-z_]\w*\}?\s*(?:$|[;&|<>`)]|\s+[-/\w])",
    ),
    rule(
        932236,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        concat!(
            // Commands that are no ordinary words at the start of a value, in a command line:
            // with an option or path argument, or followed by shell syntax. As the first word
            // of prose ("bash is my favourite shell") they are no command.
            r"^\s*(?:[\w.-]*/)?",
            distinct_commands!(),
            r"(?:\s+(?:-{1,2}[a-z0-9][\w-]*|[/~$.][\w/.*?~$-]*|[\w.-]+/[\w/.*?-]*)(?:\s|$)|\s*(?:[;|`<>]|&&|\$\(|$))"
        ),
    ),
    rule(
        932250,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:-wrapper\s+\w+,-c,|\bsh(?:\$\w+|\$\{\w+\})*\s+-c\b|\$0\s+-c\b|\baa-(?:disable|enforce|complain|exec|status|teardown)\b|\bbash\s+-[ci]\b|\b(?:python[0-9.]*|perl|ruby|php|node)\s+-[ecr]\b)",
    ),
    rule(
        932260,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"\|\s*(?:rev|sh|bash|tac|base64\s+-d|xxd\s+-r|tr\s)\b|\b(?:printf|echo)\s+\S+\s*\|\s*(?:rev|sh|bash)\b",
    ),
    rule(
        932270,
        Rce,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        r"(?:^|[\s;|&`])~[+-]\d*(?:[\s/;|&]|$)",
    ),
    rule(
        932280,
        Rce,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        r"\{[\w./-]*,[\w./,-]*\}",
    ),
    rule(932330, Rce, 1, CRITICAL, Decoded, INPUT, r"!-\d+\b"),
    rule(
        932340,
        Rce,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        r"(?:^|[;&|`])\s*(?:env|set|printenv|export|who|w|aptitude|regedit|reg)\s*(?:[;&|`\x22]|$)",
    ),
    rule(
        932370,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:^|[;&|`\n(])\s*(?:mshta|certutil|bitsadmin|rundll32|regsvr32|wmic|cscript|wscript|msiexec|forfiles|schtasks|reg\s+(?:add|query|delete)|net\s+(?:user|localgroup|use)|cmd(?:\.exe)?\s*/[ck]|regedit|powershell|pwsh|bcdedit|bcdboot|vssadmin|wevtutil|netsh|taskkill|tasklist|systeminfo|type\s+%|icacls|takeown|attrib)\b",
    ),
    rule(
        932380,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:^|[;&|`\n])\s*(?:bcdboot|bcdedit|diskpart|format|fsutil|sfc|dism|cipher|robocopy|xcopy)\b[^<>]*[<>]",
    ),
    rule(
        932100,
        Rce,
        2,
        CRITICAL,
        Shell,
        INPUT,
        concat!(r"(?:^|[\s;&|`(])", unix_commands!(), r"\s+[-/~$]"),
    ),
    // ---- PHP injection (933xxx) ----------------------------------------------------------
    rule(
        933100,
        Php,
        1,
        CRITICAL,
        Decoded,
        INPUT | FILES,
        r"(?:<\?(?:php\b|=|\s|xml\s*:|$)|\[\?php\b|[\[{]\s*/?\\?\s*php\s*[\]}]|\?>\s*$)",
    ),
    rule(
        933110,
        Php,
        1,
        CRITICAL,
        Decoded,
        FILES,
        r"\.\s*(?:php\d?|phtml|phar|pht|phps|inc)(?:\.|\s*$)",
    ),
    rule(
        933120,
        Php,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"(?:^|[^\w.])(?:allow_url_(?:fopen|include)|auto_(?:pre|ap)pend_file|engine|extension|precision|serialize_precision|smtp|smtp_port|sendmail_from|unserialize_max_depth|unserialize_callback_func|short_open_tag|asp_tags|output_buffering|output_handler|implicit_flush|enable_dl|doc_root|user_dir|register_argc_argv|variables_order|request_order|post_max_size|upload_max_filesize|max_input_(?:time|vars|nesting_level)|default_charset|user_agent|default_socket_timeout|auto_detect_line_endings|error_reporting|log_errors|html_errors|track_errors|date\.timezone|assert\.[a-z_]+|pcre\.[a-z_]+|mysqli?\.[a-z_]+|pdo_[a-z_]+\.[a-z_]+|cgi\.[a-z_]+|phar\.[a-z_]+|highlight\.[a-z_]+|disable_(?:functions|classes)|open_basedir|safe_mode|register_globals|magic_quotes_gpc|display_errors|error_log|expose_php|file_uploads|include_path|opcache\.[a-z_]+|session\.[a-z_]+|suhosin\.[a-z_.]+|xdebug\.[a-z_]+|zend\.[a-z_]+|memory_limit|max_execution_time|mail\.add_x_header|sendmail_path|upload_tmp_dir|extension_dir)\s*=",
    ),
    rule(
        933130,
        Php,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\$\s*(?:_(?:server|get|post|cookie|files|env|request|session)\b|globals\b|http_raw_post_data\b|argv\b|argc\b|http_(?:get|post|cookie|server)_vars\b)",
    ),
    rule(
        933135,
        Php,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\$\s*\{\s*\$|\$\s*\{\s*['\x22]\w|\$\s*\{\s*\w+\s*[(\[]|^\s*\$\s*\{\s*\w+\s*\}\s*$",
    ),
    rule(
        933140,
        Php,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        r"\b(?:php|phar|zlib|glob|data|expect|compress\.zlib|compress\.bzip2|zip|rar|ogg|ssh2(?:\.\w+)?)://",
    ),
    rule(
        933150,
        Php,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:base64_decode|bzdecompress|call_user_func(?:_array)?|create_function|curl_(?:exec|init|multi_exec)|escapeshell(?:arg|cmd)|file_(?:get|put)_contents|fsockopen|get_defined_(?:functions|vars|constants)|gzinflate|gzuncompress|gzdecode|move_uploaded_file|pcntl_exec|pfsockopen|phpinfo|popen|posix_[a-z]+|proc_(?:open|nice|terminate)|shell_exec|show_source|highlight_file|str_rot13|zlib_decode|ini_(?:set|get_all|alter|restore)|passthru|php_uname|getenv|putenv|assert_options|register_shutdown_function|register_tick_function|array_map|array_filter|array_walk|usort|uasort|uksort|preg_replace_callback|forward_static_call(?:_array)?|stream_socket_client|stream_context_create|readline_callback_handler_install|is_array|is_callable|function_exists|class_exists|method_exists|array_key_exists|get_class_methods|get_object_vars|var_export|debug_zval_dump|apache_[a-z_]+|dl|symlink|link|chmod|chown|chgrp|touch|mkdir|rmdir|rename|copy|tempnam|tmpfile|glob|opendir|readdir|scandir|dir|disk_free_space|getcwd|chdir|getmypid|getmyuid|get_current_user|posix_getpwuid|ftp_[a-z_]+|socket_[a-z_]+|stream_socket_server)\s*[(=]",
    ),
    rule(
        933160,
        Php,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        concat!(
            r"(?:^|[^\w$>])@?",
            php_functions!(),
            r"(?:\s|#[^\n]*|//[^\n]*|/\*.*?\*/)*\(|[\x22']\s*",
            php_functions!(),
            r"\s*[\x22']\s*\)?\s*\("
        ),
    ),
    rule(
        933170,
        Php,
        1,
        CRITICAL,
        Decoded,
        INPUT | FILES,
        r#"(?:[oc]:[+-]?\d+:"[\w\\]+":[+-]?\d+:\{|a:[+-]?\d+:\{[is]:|\b[oc]:[+-]?\d+:"[\w\\]+")"#,
    ),
    rule(
        933180,
        Php,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"\$+(?:[a-z_\x7f-\xff][\w\x7f-\xff]*|\s*\{.+?\}|_)(?:\s|#[^\n]*|//[^\n]*|/\*.*?\*/|\[[^()]*?\]|\{[^()]*?\})*\(",
    ),
    rule(
        933210,
        Php,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r#"(?:\(\s*['"]?[a-z_]+['"]?\s*\)\s*\(|\(\s*['"][a-z_]+['"]\s*\.\s*['"][a-z_]+['"]\s*\)\s*\()"#,
    ),
    rule(
        933220,
        Php,
        1,
        CRITICAL,
        Decoded,
        FILES | INPUT,
        r"(?:^|[/\\])sess_[a-z0-9,-]{20,}$",
    ),
    // ---- Java (944xxx) -------------------------------------------------------------------
    rule(
        944100,
        Java,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:java\.lang\.(?:runtime|processbuilder)|runtime\s*\.\s*getruntime\s*\(|processbuilder\s*\(\s*(?:new|['\x22\[]))",
    ),
    rule(
        944110,
        Java,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:\bjava\b.*?\b(?:runtime|processbuilder)\b|\b(?:runtime|processbuilder)\b.*?\bjava\b)",
    ),
    rule(
        944120,
        Java,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"(?:runtime|processbuilder).*?(?:clonetransformer|forclosure|instantiatefactory|instantiatetransformer|invokertransformer|prototypeclonefactory|prototypeserializationfactory|whileclosure|getproperty|filewriter|xmldecoder|chainedtransformer|constanttransformer|lazymap|transformedmap|templatesimpl|beancomparator|jdbcrowsetimpl)",
    ),
    rule(
        944130,
        Java,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        r"\b(?:java|javax|jdk|sun|com\.sun|com\.opensymphony|org\.apache|org\.springframework|org\.codehaus|org\.hibernate|org\.mozilla|org\.python|org\.omg|org\.jboss|org\.glassfish|org\.eclipse|com\.ibm|com\.fasterxml|weblogic|oracle\.jdbc|bsh|groovy|javassist|net\.sf\.json|com\.alibaba)\.[a-z_$][\w$]*(?:\.[\w$]+)*",
    ),
    rule(
        944140,
        Java,
        1,
        CRITICAL,
        Decoded,
        FILES,
        r"\.\s*(?:jsp|jspx|jspf|jsw|jsv|jhtml|jsf|war|ear)(?:\.|\s*$)",
    ),
    rule(
        944150,
        Java,
        1,
        CRITICAL,
        Compact,
        ALL,
        r"\$\s*\{[^}]*?j[^}]*?n[^}]*?d[^}]*?i[^}]*?:|\$\{\s*(?:jndi|ldaps?|rmi|dns|iiop|corba|nds|nis)\s*:",
    ),
    rule(
        944200,
        Java,
        1,
        CRITICAL,
        Decoded,
        INPUT,
        r"(?:\bro0ab|\baced0005|\xac\xed\x00\x05|h4sia{3}[a-z]{0,2}l)",
    ),
    rule(
        944210,
        Java,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"(?:class\.module\.classloader|class\.classloader|#_memberaccess|@java\.lang\.|%\{\s*\(\s*#|\$\{\s*#|\(#[a-z_]+=@|ognlcontext)",
    ),
    // ---- Generic (934xxx): server-side template and prototype injection ------------------
    rule(
        934100,
        Generic,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"(?:\b(?:child_process|process\.mainmodule|process\.binding|require\s*\(\s*['\x22](?:child_process|fs|net|vm)['\x22]|eval\s*\(\s*(?:atob|buffer)|new\s+function\s*\()|\{\{\s*(?:constructor|self|config|request|lipsum|cycler|joiner|namespace|range|\w+\.__)|\{%\s*(?:import|include|set|for|if)\b|__proto__|constructor\s*\[\s*['\x22]prototype|\.prototype\s*\.|#\{[^}]*\})",
    ),
    rule(
        934110,
        Ssrf,
        1,
        CRITICAL,
        Decoded,
        ARGS | HEADERS | COOKIES,
        r"(?:169\.254\.169\.254|metadata\.google\.internal|metadata\.azure\.com|100\.100\.100\.200|fd00:ec2::254|\[::ffff:a9fe:a9fe\]|0xa9fea9fe|2852039166|0251\.0376\.0251\.0376|169\.254\.170\.2|instance-data)",
    ),
    rule(
        934120,
        Ssrf,
        1,
        CRITICAL,
        Decoded,
        ARGS,
        r"^\s*(?:gopher|dict|ldaps?|tftp|jar|netdoc|file|sftp|ssh|smb|telnet)://|^\s*jar:[a-z]+:|^\s*https?://(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|0x7f|2130706433|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+)(?:[:/?#]|$)",
    ),
    // ---- Shell evasion: globbing instead of names (`/???/??t /???/p??s??`) ------------------
    rule(
        932190,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        r"(?:^|[\s;|&`(<>])/(?:[\w\[\]-]{0,8}[?*][\w?*\[\]-]{0,8}/[\w?*\[\]-]{0,12}[?*]|(?:bin|sbin|usr|etc|tmp|dev|proc|var|home|root)/(?:[\w-]+/)*[\w\[\]-]{0,8}[?*\[][\w?*\[\]-]{0,12})",
    ),
    // ---- OS files through any separator or encoding (930121, on the path view) -----------
    rule(
        930121,
        Lfi,
        1,
        CRITICAL,
        Path,
        ALL,
        r"(?:^|[/:=\s'\x22]|\.\./)(?:etc/(?:passwd|shadow|group|gshadow|hosts|issue|motd|sudoers|crontab|fstab|mtab|resolv\.conf|os-release|hostname|environment|profile|bashrc|inittab|master\.passwd|security/passwd|httpd/|apache2?/|nginx/|mysql/|ssh/|ssl/private)|(?:boot|win|system|php|desktop)\.ini\b|(?:windows|winnt)/(?:system32|syswow64|win\.ini|system\.ini|repair|panther|debug|php\.ini|inf/|temp/)|system32/(?:drivers/etc/|config/(?:sam|system|security|software)|inetsrv/|cmd\.exe|license\.rtf)|inetpub/(?:wwwroot|logs)|proc/(?:self|\d+)/(?:environ|cmdline|maps|fd|status|cwd|exe|root)|var/log/(?:auth|syslog|messages|secure|apache2?/|nginx/|httpd/)|(?:root|home/[^/]+)/\.(?:ssh/|bash_history|aws/|docker/)|usr/local/(?:apache2?/conf|etc/php))",
    ),
    rule(
        930122,
        Lfi,
        1,
        CRITICAL,
        Path,
        ALL,
        // Climbing out however it is spelled: `../` and `..\` after folding, `..;/`, `.../`.
        r"(?:^|/)\.{2,}(?:;[^/]*)?/(?:.*/)?\.{2,}(?:/|$)|(?:^|/)\.{2,}/+(?:etc|windows|winnt|boot\.ini|proc|var|usr|root|home|system32|inetpub)\b",
    ),
    // ---- CR/LF: response splitting and header injection (921xxx) -------------------------
    rule(
        921160,
        Crlf,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"[\r\n]\s*(?:set-cookie|location|refresh|content-(?:type|length|disposition|security-policy|encoding)|x-(?:xss-protection|forwarded-(?:for|host|server)|frame-options)|access-control-allow-[a-z-]+|transfer-encoding|cache-control|link|host|via|expires|last-modified|connection|strict-transport-security|www-authenticate|remote-(?:ip|addr)|originating-ip)\s*:",
    ),
    rule(
        921130,
        Crlf,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"[\r\n]\s*http/[0-9.]+\s+\d{3}\b|[\r\n]\s*<\s*(?:html|meta|script|body)\b",
    ),
    // ---- LDAP filter injection (936100..) ------------------------------------------------
    rule(
        936100,
        Ldap,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"(?:\)\s*\(\s*[|&!]|\(\s*[|&!]\s*\(|\*\s*\)\s*\(|\)\s*\(\s*[a-z][\w;.-]*\s*[~<>]?=|\(\s*(?:objectclass|objectcategory|uid|cn|sn|mail|userpassword|samaccountname|memberof|givenname|ou|dc)\s*[~<>]?=\s*[*)]|\(\s*[|&]\s*\)|\(\s*&\s*\)|\)\s*\)\s*\(\s*[|&])",
    ),
    rule(
        936110,
        Ldap,
        1,
        CRITICAL,
        Compact,
        INPUT,
        r"^\s*(?:\*|[\w.@-]+\*?)\s*\)\s*(?:\(|\)|%00|\x00)|\b(?:objectclass|objectcategory|userpassword|samaccountname)\s*=\s*\*",
    ),
    // ---- IMAP / SMTP command injection, mail header injection (936200..) -----------------
    rule(
        936200,
        Mail,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"[\r\n]\s*(?:rcpt\s+to\s*:|mail\s+from\s*:|(?:helo|ehlo)\s+[\w.-]+\s*(?:[\r\n]|$)|(?:data|rset|quit|noop|starttls)\s*(?:[\r\n]|$)|(?:vrfy|expn)\s+\S+|auth\s+(?:login|plain|cram-md5|xoauth2)\b)",
    ),
    rule(
        936210,
        Mail,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"[\r\n]\s*(?:[a-z]{0,4}\d{1,6}|\*)\s+(?:login|logout|select|examine|create|delete|rename|fetch|store|copy|search|capability|list|lsub|status|append|uid|noop|close|expunge|authenticate|subscribe|unsubscribe|check|starttls|idle|namespace|getquota|setacl|getacl)\b",
    ),
    rule(
        936220,
        Mail,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        r"[\r\n]\s*(?:b?cc|to|from|sender|subject|reply-to|return-path|mime-version|content-transfer-encoding|x-mailer|dkim-signature)\s*:",
    ),
    // ---- Server-side includes (936300) ---------------------------------------------------
    rule(
        936300,
        Ssi,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH | FILES,
        r"<!--\s*#\s*(?:exec|include|echo|config|fsize|flastmod|printenv|set|if|elif|else|endif)\b|<\s*!\s*-\s*-\s*#\s*(?:exec|include)\b",
    ),
    // ---- Server-side template injection (934xxx: the common engines' syntaxes) ----------
    rule(
        934200,
        Template,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Jinja2, Twig, Nunjucks, Handlebars, Pebble, Liquid: an expression or a dangerous name
        // between the braces, not a plain placeholder like {{name}}. The window after `{{`
        // holds no brace and is not counted (`[^{}]*`). Counted with `[^}]{0,200}`, every
        // `{{` in reach opened a window of its own and the automaton's states became the sets
        // of their counts, new at nearly every byte of `{{` scattered in text (1.8 ms per
        // KB); counted but one at a time, its count times the alternatives' partial matches
        // still made about a byte of states per byte of text mixing `{{`, `|` and quotes.
        r"\{\{[^{}]*?(?:\d\s*[*+/%-]\s*\d|\.__[a-z]+__|\[\s*['\x22]__|\|\s*(?:attr|safe|e|join|map|select|reject|filter|format|first|last)\b|\b(?:self|config|request|lipsum|cycler|joiner|namespace|range|_self|env|dump|constructor|settings|app|getclass|runtime|process|this|lookup|with|each|log)\b|['\x22]\s*[+~]|\(\s*\))|\{%\s*(?:import|include|set|for|if|macro|extends|block|raw|debug|php|embed|filter|sandbox|from|autoescape|call|do|with)\b|\{\{\s*[#/>]\s*(?:with|each|if|lookup|unless|log|blockhelpermissing|helpermissing)\b",
    ),
    rule(
        934210,
        Template,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Freemarker, Velocity, Thymeleaf/Spring EL, Mako, JSP EL, ERB, Smarty, Tornado. The
        // windows after an opener, as in 934200, are not counted and end at the next brace
        // (after `<%`, at the next `%`): a count made ~1 byte of new states per byte of `<%`
        // scattered in text.
        r"<#\s*(?:assign|import|include|list|if|macro|function|attempt|setting|ftl|global|local|visit|recurse)\b|\$\{[^{}]*?(?:\d\s*[*+/%-]\s*\d|\?\s*new\b|freemarker\.|\bt\s*\(|\.getclass\b|runtime\b|\.forname\b|@java|#\w|\bclass\b\.|\.exec\s*\(|new\s+java)|#set\s*\(\s*\$|#foreach\s*\(|\$class\.inspect|[*#@~]\{[^{}]*?(?:\bt\s*\(|new\s|\.getclass|runtime|\d\s*[*+/%-]\s*\d)|__\$\{|\[\[\s*\$\{|<%[=\-#]?\s*[^%]*?(?:\d\s*[*+/%-]\s*\d|system|exec|eval|runtime|process|file|require|import|`|\.read|open)|\{php\}|\{\$smarty\.|\{\s*system\s*\(|\{%\s*(?:import|raw|autoescape)\b",
    ),
    // ---- Forms the evaluation corpora showed unguarded ----------------------------------
    rule(
        942520,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // A clause after a closing quote (`1' order by 3--`), or a probing clause ended by a
        // comment (` having 1=1--`, ` order by 31337--`).
        r#"['"`)]\s*(?:having|order\s+by|group\s+by|procedure\s+analyse)\b|\b(?:having\s+\d+\s*=\s*\d+|order\s+by\s+\d+|group\s+by\s+\d+)\s*(?:--|#|;)"#,
    ),
    rule(
        942521,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Fuzzing values that are only quotes around an operator (`'-'`, `'^'`, `' '`), and a
        // quoted comparison followed by a quoted boolean (`'=' 'or'`).
        r#"(?:^|/)\s*['"`][\s\-+*/%^|&=<>!]{1,3}['"`]\s*$|['"`]\s*=\s*['"`]\s*['"`]\s*(?:or|and|xor)\b"#,
    ),
    rule(
        942522,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Boolean probes the tautology rule does not see: hex literals compared, server
        // variables, parenthesised tautologies, NULL tests after a quote, GLOB/REGEXP.
        r#"\b(?:and|or|xor)\s+(?:0x[0-9a-f]{2,}\s*=\s*0x[0-9a-f]{2,}|@@(?:version|datadir|hostname|basedir|tmpdir|servername|spid|global\.\w+)\b)|\)\s*(?:or|and)\s*\(\s*['"`]|['"`]\s*(?:and|or)\s+\w+\s+is\s+(?:not\s+)?null\b|\b(?:or|and)\s+\d+\s+(?:glob|regexp|rlike)\s+['"`]"#,
    ),
    rule(
        942523,
        Sqli,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH,
        // A closing quote followed by a comment opener (`admin'/*`): the compact view removes
        // the comment, so this reads the decoded one.
        r#"\w['"`]\s*/\*"#,
    ),
    rule(
        942524,
        Sqli,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Boolean break-outs naming a column or comparing in brackets, from the classic
        // cheat-sheets (held-out lists found them missed): `x' or full_name like '%bob%`,
        // `x' and members.email is null`, `' or 1 --`, ` or 1 --`, `) or (a=a`,
        // `or 'x' in ('x')`, string concatenation out of a literal (`1'||'asd'||'`) and a
        // stacked select after a number (`1;select *`).
        r#"['"]\s*(?:or|and)\s+[a-z_][\w.]*\s+(?:like\s*['"%]|is\s+(?:not\s+)?null\b|in\s*\(|between\s+\S+\s+and\b)|'\s*or\s+\d+\s*(?:--|#)|\)\s*(?:or|and)\s*\(\s*['"]?\w+['"]?\s*=\s*['"]?\w|\bor\s+'[^']*'\s*in\s*\(\s*'|'\s*\|\|\s*'|^\s*(?:or|and)\s+\d+\s*(?:--|#)|\d\s*;\s*select\s+(?:\*|@@|\w+\s*\()"#,
    ),
    rule(
        934130,
        Ssrf,
        1,
        CRITICAL,
        Decoded,
        ARGS,
        // A URL whose host is internal or an address in disguise: loopback and private names,
        // numeric hosts in any base or part count (`127.1`, `0x7f000001`, `017700000001`, `0`),
        // IPv6 literals, userinfo before the host, wildcard-DNS and out-of-band test domains.
        r#"(?:^|[\s"'(<=,;])(?:https?|s?ftp|ssh|smb|telnet|wss?|gopher|dict|ldaps?|tftp|netdoc|file)://(?:[^/\s@?#]*@)?(?:localhost|localtest\.me|(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){0,3}|\[[0-9a-f:.]*\]|metadata|kubernetes(?:\.[a-z0-9-]+)*|[a-z0-9.-]+\.(?:internal|local|localdomain|svc|lan|intranet|corp|home\.arpa|nip\.io|sslip\.io|xip\.io|localtest\.me|burpcollaborator\.net|oastify\.com|interact\.sh|oast\.(?:pro|live|site|online|fun|me)|requestbin\.net|dnslog\.cn|ngrok\.io|ngrok-free\.app))(?:[:/?#\s"']|$)"#,
    ),
    rule(
        934220,
        Template,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // Go templates (`{{.}}`, `{{printf …}}`, `{{define …}}`), arithmetic with quoted
        // operands (`{{7*'7'}}`), Spring beans, ERB method calls, Razor expressions.
        r#"\{\{\s*(?:\.[\w.]*\s*\}\}|(?:printf|define|template|block|beans)\b)|\{\{\s*['"]?\d+['"]?\s*[*+/%-]\s*['"]\d|<%=?\s*[a-z_][\w:]*\.[a-z_]\w*\s*\(|@\(\s*\d+\s*[*+/-]\s*\d+\s*\)|@system\.(?:diagnostics|io|net|reflection)\b"#,
    ),
    rule(
        936310,
        Ssi,
        1,
        CRITICAL,
        Decoded,
        INPUT | PATH | FILES,
        // Edge-side includes, which caches and CDNs evaluate.
        r"<\s*esi:(?:include|debug|remove|vars|inline|choose|when|otherwise|try|attempt|except|assign|eval|comment)\b",
    ),
    rule(
        932271,
        Rce,
        1,
        CRITICAL,
        Shell,
        INPUT,
        // Windows commands after a separator, and a pause (`;sleep 10`) probing blind injection.
        r"(?:[;&|`]|\$\()\s*[({]?\s*(?:(?:ver|systeminfo|tasklist|whoami|ipconfig|powershell(?:\.exe)?|cmd(?:\.exe)?\s+/[ck]|net\s+(?:user|localgroup|view|share|use))(?:[\s;&|`)]|$)|set\s+/a\s)|[;&|`(]\s*(?:sleep|usleep)\s+\d",
    ),
    rule(
        936130,
        Ldap,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // A run of filter metacharacters (`*()|&`), the LDAP fuzzer's probe.
        r"[*()|&]{5,}",
    ),
    rule(
        934140,
        Generic,
        1,
        CRITICAL,
        Compact,
        INPUT | PATH,
        // NoSQL (MongoDB) injection: `$where` JavaScript reading `this` or cut short
        // (`0;return true`), operators smuggled into a value (`', $or: [`, `[$ne]=1`,
        // `{ $ne: 1 }`).
        r#"\bthis\.\w+(?:\.\w+)*\s*(?:\.match\s*\(|\.length\b|[=!]==?|[<>]=?)|\breturn\s+this\.|;\s*return\s+(?:true|1|!0)\b|['"]\s*(?:[,}\]]\s*)+\$(?:or|and|nor|where|ne|gt|lt|regex|in|nin|exists|expr|comment)\s*:|\$where\s*:|\[\s*\$(?:ne|gt|gte|lt|lte|regex|where|in|nin|exists)\s*\]|\{\s*\$(?:ne|gt|gte|lt|lte|regex|where|in|nin|exists)\s*:"#,
    ),
    // ---- Injections aimed at a secret field (passwords) -------------------------------------
    // Read only in secret fields, which no other rule reads. Each alternative needs an
    // injection's syntax around its keyword: for a random 20-character password from all 94
    // printable characters the chance of the likeliest alternative is below one in a million
    // (`edge/tests/waf_secrets.rs` tries generated passwords and passphrases).
    rule(
        936140,
        Ldap,
        1,
        CRITICAL,
        Decoded,
        SECRETS,
        // A filter closed and another opened (`)(|(`, `)(!(`), or opened on a standard attribute
        // (RFC 4519, Active Directory) after a close or an operator (`admin)(cn=*)`,
        // `(&(objectclass=*)`); a value closing the filter and cutting it (`admin*))%00`: the
        // decoded view drops the NUL, so the cut is the end of the value); a password of nothing
        // but filter metacharacters (`*()|&'`).
        r#"\)\s*\(\s*[|&!]\s*\(|[)|&!]\s*\(\s*(?:[|&!]\s*\(\s*)*(?:objectclass|objectcategory|objectsid|uid|uidnumber|gidnumber|cn|sn|givenname|displayname|mail|userpassword|unicodepwd|password|samaccountname|userprincipalname|memberof|member|ou|dc|o|c|l|st|description|homedirectory|loginshell|telephonenumber|mobile|title|department|manager|admincount|useraccountcontrol|distinguishedname)\s*[~<>]?=|^\s*[\w.@-]*\*?\s*\)\s*\)\s*(?:%00|$)|^\s*[*()|&!]{4,}['"]?\s*$"#,
    ),
    rule(
        934150,
        Generic,
        1,
        CRITICAL,
        Decoded,
        SECRETS,
        // NoSQL (MongoDB) injection: a query operator followed by `:` or `]` (`$where:`,
        // `[$ne]=1`), JavaScript reading the document (`this.password.match(`), a pause
        // (`sleep(5000)`), a tautology (`|| 1==1`, `'||'1'=='1`), a `$where` cut short
        // (`0;return true`).
        r#"\$(?:where|ne|eq|gt|gte|lt|lte|in|nin|regex|options|exists|type|not|or|and|nor|expr|function|accumulator|comment|mod|elemmatch|all|size|lookup|match|text|jsonschema)\b\s*['"]?\s*[:\]]|\bthis\.\w+\.(?:match|test|search|length|indexof|startswith|endswith|valueof|tostring|constructor)\b|\bsleep\s*\(\s*\d+\s*\)|\|\|\s*['"]?\w+['"]?\s*===?\s*['"]?\w|;\s*return\s+(?:true|1|!0)\b"#,
    ),
    rule(
        944260,
        Generic,
        1,
        CRITICAL,
        Compact,
        ARGS | FILES,
        // XML that fetches from elsewhere: an external DTD or a remote stylesheet.
        r#"<!doctype\s+[\w:.-]+\s+(?:system|public)\b|<\?xml-stylesheet\b[^>]*\bhref\s*=\s*['"]?(?:https?|ftp|file)://"#,
    ),
    // ---- Scanners (913xxx) ---------------------------------------------------------------
    rule(
        913100,
        Scanner,
        1,
        CRITICAL,
        Decoded,
        HEADERS,
        r"(?:nikto|sqlmap|nmap|masscan|zgrab|dirbuster|dirb\b|gobuster|feroxbuster|ffuf|wfuzz|wpscan|acunetix|nessus|openvas|w3af|arachni|skipfish|havij|netsparker|appscan|burp\s*collaborator|nuclei|jaeles|whatweb|zmeu|morfeus|jorgee|sitelock|commix|xsstrike|dalfox|paros|webinspect|hydra|medusa|brutus|fimap|grabber|sf\b|\bsqlninja|bsqlbf|pangolin|absinthe|blind\s*sql)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_ids_are_unique() {
        let mut ids = std::collections::HashSet::new();
        for r in RULES {
            // The engine and settings the WAF runs them with (see `CompiledView::build`).
            let compiled = regex_automata::hybrid::dfa::DFA::builder()
                .syntax(
                    regex_automata::util::syntax::Config::new()
                        .unicode(false)
                        .utf8(false),
                )
                .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
                .build(r.pattern);
            assert!(
                compiled.is_ok(),
                "rule {} does not compile: {:?}",
                r.id,
                compiled.err()
            );
            assert!(ids.insert(r.id), "duplicate rule id {}", r.id);
            assert!((1..=4).contains(&r.paranoia));
        }
    }
}
