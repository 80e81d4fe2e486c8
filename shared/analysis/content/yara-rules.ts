/**
 * The YARA rule set shipped with portcullis, run by YARA-X in the streaming pass. Each rule's `id` is
 * the content finding's stable rule id, `category` its threat kind. Bump YARA_RULES_VERSION on any
 * change: it feeds the layer-cache key, so cached layers are re-scanned lazily. Several rules share
 * an id (one finding): a rule is split where its patterns must go to different passes of a file
 * kind's rule set (`yara-rule-sets.ts`, where each split is explained).
 */
export const YARA_RULES_VERSION = 4;

// kept free of backticks and dollar-brace: it is a String.raw template
export const SHIPPED_YARA_RULES = String.raw`
rule eicar_test_file {
  meta:
    id = "malware/eicar-test-file"
    category = "malware"
    title = "the EICAR anti-virus test file"
  strings:
    $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
  condition:
    $eicar at 0 and filesize <= 128
}

rule windows_process_injection_tool {
  meta:
    id = "yara/windows-process-injection"
    category = "injection"
    title = "a Windows executable naming the remote-process injection APIs (open, allocate, write, start a thread in another process)"
  strings:
    $open = "OpenProcess" ascii wide
    $alloc = "VirtualAllocEx" ascii wide
    $write = "WriteProcessMemory" ascii wide
    $thread1 = "CreateRemoteThread" ascii wide
    $thread2 = "NtCreateThreadEx" ascii wide
    $thread3 = "RtlCreateUserThread" ascii wide
    $hollow = "NtUnmapViewOfSection" ascii wide
  condition:
    uint16(0) == 0x5A4D and $open and $alloc and $write and (any of ($thread*) or $hollow)
}

rule windows_credential_dumping_commands {
  meta:
    id = "yara/windows-credential-dumping"
    category = "malware"
    title = "a credential-dumping tool (Mimikatz commands, or an LSASS memory dump)"
  strings:
    $mk1 = "sekurlsa::logonpasswords" ascii wide nocase
    $mk2 = "lsadump::sam" ascii wide nocase
    $mk3 = "lsadump::dcsync" ascii wide nocase
    $mk4 = "kerberos::golden" ascii wide nocase
    $mk5 = "privilege::debug" ascii wide nocase
  condition:
    2 of ($mk*)
}

rule windows_lsass_dump_tool {
  meta:
    id = "yara/windows-credential-dumping"
    category = "malware"
    title = "a credential-dumping tool (Mimikatz commands, or an LSASS memory dump)"
  strings:
    $dump = "MiniDumpWriteDump" ascii wide
    $lsass = "lsass.exe" ascii wide nocase
  condition:
    uint16(0) == 0x5A4D and $dump and $lsass
}

rule coin_miner_stratum_url {
  meta:
    id = "yara/coin-miner"
    category = "malware"
    title = "a cryptocurrency miner or its pool configuration (stratum URL, XMRig settings)"
  strings:
    $stratum = /stratum\+(tcp|ssl|tls):\/\/[A-Za-z0-9.\-]{3,253}:[0-9]{2,5}/ nocase
  condition:
    $stratum
}

rule coin_miner_xmrig_config {
  meta:
    id = "yara/coin-miner"
    category = "malware"
    title = "a cryptocurrency miner or its pool configuration (stratum URL, XMRig settings)"
  strings:
    $xmrig1 = "\"donate-level\"" ascii
    $xmrig2 = "\"randomx\"" ascii
    $xmrig3 = "\"pools\"" ascii
    $xmrig4 = "xmrig" ascii nocase
  condition:
    3 of ($xmrig*)
}

rule webshell_php {
  meta:
    id = "yara/webshell-php"
    category = "malware"
    title = "a PHP web shell (request input passed to eval or a shell)"
  strings:
    $php = "<?" ascii
    $exec = /(eval|assert|system|passthru|shell_exec|exec|popen|proc_open|create_function)\s*\(\s*(base64_decode\s*\(\s*|gzinflate\s*\(\s*|str_rot13\s*\(\s*|stripslashes\s*\(\s*)*\$_(GET|POST|REQUEST|COOKIE|SERVER)\s*\[/ nocase
    $backtick = /\x60\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/
  condition:
    $php and ($exec or $backtick)
}

rule webshell_aspx {
  meta:
    id = "yara/webshell-aspx"
    category = "malware"
    title = "an ASP.NET web shell (request input run through cmd.exe or PowerShell)"
  strings:
    $page = /<%@\s*(Page|WebHandler)/ nocase
    $req = /Request(\.Form|\.QueryString|\.Params|\[)/ nocase
    $proc = "ProcessStartInfo" ascii nocase
    $start = "Process.Start" ascii nocase
    $cmd = "cmd.exe" ascii nocase
    $ps = "powershell" ascii nocase
  condition:
    $page and $req and ($proc or $start) and ($cmd or $ps)
}

rule webshell_jsp {
  meta:
    id = "yara/webshell-jsp"
    category = "malware"
    title = "a JSP web shell (request parameter passed to Runtime.exec)"
  strings:
    $exec = /Runtime\.getRuntime\(\)\.exec\(\s*request\.getParameter\(/
    $pb = /new\s+ProcessBuilder\([^)]{0,80}request\.getParameter\(/
  condition:
    any of them
}

rule reverse_shell_dev_tcp {
  meta:
    id = "yara/reverse-shell"
    category = "malware"
    title = "a reverse-shell one-liner (a shell wired to a network connection)"
  strings:
    $bash = /(ba)?sh\s+-i\s*[>&]+\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.\-]{1,253}\/[0-9]{1,5}/
    $devtcp = /exec\s+[0-9]+<>\/dev\/tcp\/[A-Za-z0-9.\-]{1,253}\/[0-9]{1,5}/
  condition:
    any of them
}

rule reverse_shell_netcat {
  meta:
    id = "yara/reverse-shell"
    category = "malware"
    title = "a reverse-shell one-liner (a shell wired to a network connection)"
  strings:
    $nc = /\b(nc|ncat|netcat)(\.traditional)?\s+(-[a-z]+\s+)*-e\s+\/bin\/(ba)?sh\b/
    $mkfifo = /mkfifo\s+\S+;\s*(ba)?sh\s+-i\s*<\s*\S+\s*2?>&1\s*\|\s*(nc|ncat|openssl)\b/
  condition:
    any of them
}

rule reverse_shell_socat {
  meta:
    id = "yara/reverse-shell"
    category = "malware"
    title = "a reverse-shell one-liner (a shell wired to a network connection)"
  strings:
    $socat = /socat\s+[^\n]{0,80}exec:['"]?(\/bin\/)?(ba)?sh\s+-li?/ nocase
  condition:
    any of them
}

rule reverse_shell_python_perl {
  meta:
    id = "yara/reverse-shell"
    category = "malware"
    title = "a reverse-shell one-liner (a shell wired to a network connection)"
  strings:
    $python = /socket\.socket\([^\n]{0,200}\.connect\(\(\s*["'][^"']{1,253}["']\s*,\s*[0-9]{1,5}\s*\)\)[^\n]{0,300}(pty\.spawn|subprocess\.call|os\.dup2)/
    $perl = /use\s+Socket;[^\n]{0,300}exec\(\s*["']\/bin\/(ba)?sh\s+-i["']\s*\)/
  condition:
    any of them
}

rule reverse_shell_powershell {
  meta:
    id = "yara/reverse-shell"
    category = "malware"
    title = "a reverse-shell one-liner (a shell wired to a network connection)"
  strings:
    $pwsh = /New-Object\s+(System\.)?Net\.Sockets\.TCPClient\(\s*["'][^"']{1,253}["']\s*,\s*[0-9]{1,5}\s*\)[^\n]{0,600}(iex|Invoke-Expression)/ nocase
  condition:
    any of them
}
`;
