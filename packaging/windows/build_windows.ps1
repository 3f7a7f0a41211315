# Windows build: one-folder app, self-test, then the Inno Setup installer.
# Runs on Windows only (the CI workflow uses it); it cannot run on the Linux development machine.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
$ErrorActionPreference = "Stop"
$Repo = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Repo
$Out = Join-Path $Repo "build\windows"
New-Item -ItemType Directory -Force -Path $Out | Out-Null

if (-not (Test-Path "$Out\venv\Scripts\python.exe")) { python -m venv "$Out\venv" }
$Py = "$Out\venv\Scripts\python.exe"
& $Py -m pip install --quiet --upgrade pip
& $Py -m pip install --quiet ".[packaging]"
& $Py -m pip uninstall --quiet -y trainer   # the app's modules come from the checkout (spec pathex)

& $Py -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$Out\dist" --workpath "$Out\work" packaging\trainer.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

$env:QT_QPA_PLATFORM = "offscreen"
& "$Out\dist\trainer\trainer.exe" --self-test
if ($LASTEXITCODE -ne 0) { throw "self-test of the bundle failed" }
Remove-Item Env:QT_QPA_PLATFORM

& $Py "packaging\make_smoke_video.py" "$Out\smoke.mp4"
& "$Out\dist\trainer\trainer.exe" analyze "$Out\smoke.mp4" --out "$Out\smoke-analysis" --quiet
if ($LASTEXITCODE -ne 0) { throw "trainer analyze on the bundle failed" }

$Version = & $Py -c "import sys; sys.path.insert(0, '.'); import trainer; print(trainer.__version__)"
$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
if (-not (Test-Path $Iscc)) { choco install innosetup --no-progress -y; }
& $Iscc "/DAppVersion=$Version" "/DDistDir=$Out\dist\trainer" "packaging\windows\trainer.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
$Size = (Get-ChildItem -Recurse "$Out\dist\trainer" | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ("bundle: {0:N0} MB unpacked" -f $Size)
Get-ChildItem "$Out\VideoVisitTrainer-*-setup.exe" | ForEach-Object { Write-Host ("installer: {0} ({1:N0} MB)" -f $_.Name, ($_.Length / 1MB)) }
